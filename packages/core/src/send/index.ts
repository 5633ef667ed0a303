// Sending files: the engine behind @fcgi/static's serveStatic() and res.sendFile()/res.download().
export { SendError } from './errors.js';
export {
  sendPath, sendUrlPath, prepareSendOptions, type SendCallback, type SendRequest, type SentFile,
} from './send-file.js';
export { parseMaxAge, type SendOptions, type NormalizedSendOptions, type StatEtag } from './options.js';
export {
  decodeUrlPath, resolveSafePath, collapseLeadingSlashes, isInside, type Dotfiles, type SafePath,
} from './path-safety.js';
export { parseRange, contentRange, DEFAULT_MAX_RANGES, type ByteRange, type RangeResult, type RangeOptions } from '../semantics/index.js';
export {
  evaluatePreconditions, ifRangeMatches, parseEntityTags, parseHttpDate, type EntityTag, type PreconditionResult, type Validators,
} from './conditional.js';
export { planMultipart, type MultipartPlan, type Segment } from '../semantics/index.js';
export { acceptedCodings } from './accept-encoding.js';
export { sendFile, download, OFFLOAD_SETTING, type SendFileResponse, type SendFileCallback } from './response-methods.js';
export { normalizeOffload, offloadValue, encodeUriPath, type SendOffload, type OffloadHeader, type NormalizedOffload } from './offload.js';
