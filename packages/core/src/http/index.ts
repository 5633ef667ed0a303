// Requests and responses over FastCGI, in the shape of Node's http objects.
export { FcgiRequest, type BodyOptions } from './request.js';
export { FcgiResponse, type HeaderValue, type HeaderList, type OutgoingHeaders } from './response.js';
export {
  responder,
  handlerFailed,
  type Handler,
  type NodeHandler,
  type ResponderOptions,
  type RequestClass,
  type ResponseClass,
} from './responder.js';
export { HOP_BY_HOP } from './cgi-header.js';
export type { BasePath } from './base-path.js';
export {
  answerError,
  logError,
  type AnswerableRequest,
  type AnswerableResponse,
  type ErrorAnswerOptions,
} from './error-answer.js';
export type { ResponseSink, RequestSource, Transport } from './sink.js';
export { allow, deny, authorizer, roleNumbers, type RoleName, type AuthorizerResult } from './authorizer.js';
export { fetchResponder, isFetchApp, type FetchApp, type FetchEnv } from './fetch-handler.js';
