// The framework layer: an Express-style app on top of the core responder.
export { Application, type AppOptions, type ForeignMiddleware } from './application.js';
export { Router, type RouterOptions, type RouterConstructor } from './router.js';
export { Route, type RouteLayer } from './route.js';
export { Layer } from './layer.js';
export {
  literalPaths,
  decodeParam,
  literalMatch,
  loosen,
  type Matcher,
  type MatchOptions,
  type PathMatch,
  type CompiledPath,
  type PathIndex,
  type IndexedLayer,
} from './matcher.js';
export { allowedMethods, type AllowedMethodsOptions } from './allowed.js';
export type { NotFoundHook, ErrorHook } from './final-handler.js';
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
} from './route-types.js';
export { AppRequest, type RequestRanges } from './request.js';
export { AppResponse, type FormatHandler } from './response.js';
export { View, type ViewEngine, type RenderCallback, type ViewOptions, type ViewClass, type ViewLike } from './view.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
export type { CookieOptions } from './set-cookie.js';
