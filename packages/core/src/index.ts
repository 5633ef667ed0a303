// @fcgi/core: apps served over FastCGI. The app and its middleware, the responder's req/res, the
// servers and serve(), the FastCGI client and gateway, errors. The wire format is the subpath
// @fcgi/core/protocol, the file sender @fcgi/core/send, HTTP semantics (negotiation, conditional
// requests, ETags...) @fcgi/core/semantics; layers' internals are not exported.

// The app: one dispatcher for middleware, mounts, sub-apps and routes; request and response.
export { createApp, ServingApplication, type App } from './create-app.js';
export { Application, type AppOptions, type ForeignMiddleware } from './app/index.js';
export { AppRequest, AppResponse, type FormatHandler, type CookieOptions, type RequestRanges } from './app/index.js';
// Views: Express's View (the `view` setting's default) and the engine convention app.engine() takes.
export {
  View,
  type ViewEngine,
  type RenderCallback,
  type ViewOptions,
  type ViewClass,
  type ViewLike,
} from './app/index.js';
export type {
  NextFunction,
  Middleware,
  ErrorMiddleware,
  Mountable,
  Handle,
  NotFoundHook,
  ErrorHook,
} from './app/index.js';
export {
  Router,
  Route,
  Layer,
  allowedMethods,
  type RouterOptions,
  type RouterConstructor,
  type RouteLayer,
  type AllowedMethodsOptions,
} from './app/index.js';
export type {
  AnyHandlers,
  ErrorHandler,
  Handlers,
  Merged,
  ParamCallback,
  Params,
  ParamsFor,
  ParamsOf,
  PathArg,
  RequestHandler,
  RouteRequest,
  UseHandlers,
} from './app/index.js';
// How paths are matched: the interface a pattern matcher implements (@fcgi/router's `patterns`),
// and the built-in one for literal paths and RegExps with the pieces a matcher may reuse.
export {
  literalPaths,
  literalMatch,
  loosen,
  decodeParam,
  type Matcher,
  type MatchOptions,
  type PathMatch,
  type CompiledPath,
  type PathIndex,
  type IndexedLayer,
} from './app/index.js';

// Body parsers (Express 5 / body-parser semantics) and streaming multipart/form-data.
export {
  json,
  urlencoded,
  text,
  raw,
  multipart,
  parseMultipart,
  type JsonOptions,
  type UrlencodedOptions,
  type TextOptions,
  type ParserOptions,
  type TypeOption,
  type BodyMiddleware,
  type MultipartOptions,
  type UploadedFile,
  type MultipartLimits,
  type MultipartPart,
  type MultipartSource,
} from './app/body/index.js';

// The Responder (and Authorizer) role as Node-shaped req/res.
export {
  FcgiRequest,
  FcgiResponse,
  responder,
  authorizer,
  allow,
  deny,
  type BodyOptions,
  type HeaderValue,
  type HeaderList,
  type OutgoingHeaders,
  type Handler,
  type NodeHandler,
  type FetchApp,
  type FetchEnv,
  type ResponderOptions,
  type BasePath,
  type RequestClass,
  type ResponseClass,
  type AuthorizerResult,
  type RoleName,
} from './http/index.js';
export type { TimeoutCode, ConnectionLimits } from './connection/index.js';

// Serving: the server, serve(), the process lifecycle, the status page.
export { serve, type ServeOptions, type Serving } from './serve.js';
export {
  FcgiServer,
  createFcgiServer,
  status,
  type ServerOptions,
  type ListenAddress,
  type ListenTarget,
  type LifecycleOptions,
  type LifecycleHooks,
  type ShutdownReason,
  type StatusOptions,
  type StatusReport,
} from './server/index.js';

// Files from responder handlers (apps have res.sendFile/res.download); the engine is @fcgi/core/send.
export {
  sendFile,
  download,
  type SendOptions,
  type SendOffload,
  type SendFileCallback,
  type SendFileResponse,
} from './send/index.js';

// The FastCGI client (PHP-FPM and any FastCGI application) and the HTTP gateway in front of one.
export {
  FcgiClient,
  FcgiClientResponse,
  ClientErrorCode,
  type FcgiClientOptions,
  type FcgiRequestOptions,
  type EndRequest,
  type FcgiClientResponseEvents,
  type ClientErrorCodeName,
  type ClientTarget,
  type RequestBody,
  type RequestParams,
  type PoolStats,
  type CgiHead,
} from './client/index.js';
export { createGateway, type Gateway, type GatewayOptions, type ParamsOptions } from './gateway/index.js';

// A request through a handler or app in process, without sockets: for tests (Web Request in, Response out).
export { inject, type InjectInit } from './client/index.js';

// The one error type, and the one renderer of error answers.
export { ErrorCode, FcgiError, httpError, errorStatus, type ErrorCodeName, type FcgiErrorOptions } from './errors.js';
export { answerError, type AnswerableRequest, type AnswerableResponse, type ErrorAnswerOptions } from './http/index.js';
