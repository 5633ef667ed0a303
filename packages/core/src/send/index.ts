// Sending files (the public `@fcgi/core/send`): the engine behind @fcgi/static's serveStatic()
// and res.sendFile()/res.download().
export {
  sendPath,
  sendUrlPath,
  prepareSendOptions,
  type SendCallback,
  type SendRequest,
  type SentFile,
} from './send-file.js';
export type { SendOptions, NormalizedSendOptions, StatEtag } from './options.js';
export { collapseLeadingSlashes, type Dotfiles } from './path-safety.js';
export {
  sendFile,
  download,
  OFFLOAD_SETTING,
  type SendFileResponse,
  type SendFileCallback,
} from './response-methods.js';
export type { SendOffload, OffloadHeader } from './offload.js';
