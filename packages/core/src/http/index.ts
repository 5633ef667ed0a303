// Requests and responses over FastCGI, in the shape of Node's http objects.
export { FcgiRequest, DEFAULT_BODY_LIMIT, type BodyOptions } from './request.js';
export { FcgiResponse, type HeaderValue } from './response.js';
export { responder, handlerFailed, type Handler, type NodeHandler, type ResponderOptions, type RequestClass, type ResponseClass } from './responder.js';
export { headersFromEnviron, urlFromEnviron } from './environ.js';
export { checkHeaderName, checkHeaderValue, serializeHead, HOP_BY_HOP } from './cgi-header.js';
export { RequestSocket } from './request-socket.js';
export type { ResponseSink, RequestSource, Transport } from './sink.js';
export { allow, deny, authorizer, roleName, roleNumbers, type RoleName, type AuthorizerResult } from './authorizer.js';
