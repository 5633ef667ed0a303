// HTTP semantics shared by http, app, send and static: a leaf that imports only Node, npm
// libraries and ../errors.js. Named exports only; each file holds one subject.
// Negotiation, media types, conditional requests, ETags, Vary, HTML escaping, URL encoding.
export {
  preferredMediaTypes, preferredCharsets, preferredEncodings, preferredLanguages,
  acceptsTypes, acceptsCharsets, acceptsEncodings, acceptsLanguages, acceptedCodings, type Offered, type Coding,
} from './negotiation.js';
export {
  parseMediaType, setCharset, normalizeContentType, normalizeType, mimeMatch, typeIs, hasBody, requestTypeIs,
  type MediaType,
} from './media-type.js';
export {
  isFresh, evaluatePreconditions, ifRangeMatches, parseEntityTags, parseEntityTag, parseHttpDate,
  type FreshRequest, type FreshResponse, type EntityTag, type PreconditionResult, type Validators,
} from './conditional.js';
export { etag, compileEtag, type EtagFunction, type EtagOptions, type StatLike } from './etag.js';
export { appendVary } from './vary.js';
export { escapeHtml } from './html-escape.js';
export { encodeUrl } from './url-encoding.js';
