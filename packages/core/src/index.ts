// @fcgi/core: the FastCGI 1.0 protocol, connections, the Responder role as req/res, and servers.
export * from './protocol/index.js';
export * from './connection/index.js';
export * from './http/index.js';
export * from './server/index.js';
export * from './client/index.js';
export * from './cgi/index.js';
export * from './gateway/index.js';
export * from './app/index.js';
export { serve, type ServeOptions, type Serving } from './serve.js';
export { ErrorCode, FcgiError, type ErrorCodeName } from './errors.js';
export * from './send/index.js';
export {
  preferredMediaTypes, preferredCharsets, preferredEncodings, preferredLanguages, acceptedCodings, typeIs, hasBody,
  setCharset, evaluatePreconditions, ifRangeMatches, parseEntityTags, parseHttpDate, etag, compileEtag, escapeHtml, encodeUrl,
  type EntityTag, type PreconditionResult, type Validators, type EtagFunction, type EtagOptions, type StatLike,
} from './semantics/index.js';
