// HTTP semantics shared by http, app, send and static: pure functions of headers and bytes, with
// no dependency on the layers that use them.

// Proxy trust, Content-Disposition, cookie signing, ranges, nested query strings, multipart, sizes.
export { compileTrust, trustFor, forwardedChain, type TrustFn } from './proxy-trust.js';
export { contentDisposition, type ContentDispositionOptions } from './content-disposition.js';
export { SIGNED_PREFIX, sign, unsign } from './cookie-signature.js';
export { parseRange, contentRange, DEFAULT_MAX_RANGES, type ByteRange, type RangeResult, type RangeOptions } from './range.js';
export { planMultipart, makeBoundary, type MultipartPlan, type Segment } from './multipart-byteranges.js';
export { parseNested, type NestedObject, type NestedOptions, type NestedValue } from './nested-query.js';
export { MultipartParser, type MultipartHandler } from './multipart-parser.js';
export { parseBytes } from './bytes.js';
