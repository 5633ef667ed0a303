// HTTP semantics shared by http, app, send and static: a leaf that imports only Node, npm
// libraries and ../errors.js. Named exports only; each file holds one subject.

// Negotiation, media types, conditional requests, ETags, Vary, HTML escaping, URL encoding.
export {
  preferredMediaTypes,
  preferredCharsets,
  preferredEncodings,
  preferredLanguages,
  acceptsTypes,
  acceptsCharsets,
  acceptsEncodings,
  acceptsLanguages,
  acceptedCodings,
  type Offered,
  type Coding,
} from './negotiation.js';
export {
  parseMediaType,
  setCharset,
  normalizeContentType,
  normalizeType,
  mimeMatch,
  typeIs,
  hasBody,
  requestTypeIs,
  type MediaType,
} from './media-type.js';
export {
  isFresh,
  evaluatePreconditions,
  ifRangeMatches,
  parseEntityTags,
  parseEntityTag,
  parseHttpDate,
  type FreshRequest,
  type FreshResponse,
  type EntityTag,
  type PreconditionResult,
  type Validators,
} from './conditional.js';
export { etag, compileEtag, type EtagFunction, type EtagOptions, type StatLike } from './etag.js';
export { appendVary } from './vary.js';
export { escapeHtml } from './html-escape.js';
export { encodeUrl } from './url-encoding.js';

// Proxy trust, Content-Disposition, cookie signing, ranges, nested query strings, multipart, sizes.
export { compileTrust, trustFor, forwardedChain, type TrustFn } from './proxy-trust.js';
export { contentDisposition, type ContentDispositionOptions } from './content-disposition.js';
export { SIGNED_PREFIX, sign, unsign } from './cookie-signature.js';
export {
  parseRange,
  contentRange,
  DEFAULT_MAX_RANGES,
  type ByteRange,
  type RangeResult,
  type RangeOptions,
} from './range.js';
export { planMultipart, makeBoundary, type MultipartPlan, type Segment } from './multipart-byteranges.js';
export { parseNested, type NestedObject, type NestedOptions, type NestedValue } from './nested-query.js';
export { MultipartParser, type MultipartHandler } from './multipart-parser.js';
export { parseBytes } from './bytes.js';
