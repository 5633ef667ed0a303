// @fcgi/core: apps served over FastCGI. The app and its middleware, the responder's req/res, the
// servers and serve(), the FastCGI client and gateway, errors. The wire format is the subpath
// @fcgi/core/protocol, the file sender @fcgi/core/send; layers' internals are not exported.

// The app: dispatcher, request and response, middleware types.
export { createApp, Application, type App, type ForeignMiddleware } from './app/index.js';
export { AppRequest, AppResponse, finalHandler, type FormatHandler, type CookieOptions } from './app/index.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './app/index.js';

// Body parsers (Express 5 / body-parser semantics) and streaming multipart/form-data.
export {
  json, urlencoded, text, raw, multipart, parseMultipart,
  type JsonOptions, type UrlencodedOptions, type TextOptions, type ParserOptions, type TypeOption, type BodyMiddleware,
  type MultipartOptions, type UploadedFile, type MultipartLimits, type MultipartPart, type MultipartSource,
} from './app/index.js';

// The Responder (and Authorizer) role as Node-shaped req/res.
export {
  FcgiRequest, FcgiResponse, responder, authorizer, allow, deny,
  type BodyOptions, type HeaderValue, type Handler, type NodeHandler, type ResponderOptions, type RequestClass,
  type ResponseClass, type AuthorizerResult, type RoleName,
} from './http/index.js';
export { RequestTimeoutError, type TimeoutCode, type ConnectionLimits } from './connection/index.js';

// Serving: the server, serve(), the process lifecycle, the status page.
export { serve, type ServeOptions, type Serving } from './serve.js';
export {
  FcgiServer, createFcgiServer, status, type ServerOptions, type ListenAddress, type ListenTarget,
  type LifecycleOptions, type LifecycleHooks, type ShutdownReason, type StatusOptions, type StatusReport,
} from './server/index.js';

// Files from responder handlers (apps have res.sendFile/res.download); the engine is @fcgi/core/send.
export {
  sendFile, download, SendError, type SendOptions, type SendOffload, type SendFileCallback, type SendFileResponse,
} from './send/index.js';

// The FastCGI client (PHP-FPM and any FastCGI application) and the HTTP gateway in front of one.
export {
  FcgiClient, FcgiClientResponse, FcgiClientError, ClientErrorCode,
  type FcgiClientOptions, type FcgiRequestOptions, type EndRequest, type FcgiClientResponseEvents,
  type ClientErrorCodeName, type ClientTarget, type RequestBody, type RequestParams, type PoolStats, type CgiHead,
} from './client/index.js';
export { createGateway, type Gateway, type GatewayOptions, type ParamsOptions } from './gateway/index.js';

export { ErrorCode, FcgiError, type ErrorCodeName } from './errors.js';
