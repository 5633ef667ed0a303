// The framework layer: an Express-style app on top of the core responder.
export { Application, type AppOptions, type ForeignMiddleware } from './application.js';
export { Router, type RouterOptions, type RouterConstructor } from './router.js';
export { Route, type RouteLayer } from './route.js';
export { Layer } from './layer.js';
export { literalPaths, decodeParam, literalMatch, regexpMatch, loosen, groupNames, isPattern, type Matcher, type MatchOptions, type PathMatch, type CompiledPath, type PathIndex, type IndexedLayer } from './matcher.js';
export { allowedMethods, type AllowedMethodsOptions } from './allowed.js';
export type { NotFoundHook, ErrorHook } from './final-handler.js';
export type {
  AnyHandlers, ErrorHandler, Handlers, Merged, ParamCallback, Params, ParamsFor, ParamsOf, PathArg,
  RequestHandler, RouteRequest, UseHandlers,
} from './route-types.js';
export { AppRequest } from './request.js';
export { AppResponse } from './response.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
export { preferredMediaTypes, preferredCharsets, preferredEncodings, preferredLanguages } from './accepts.js';
export { typeIs, hasBody } from './type-is.js';
export { compileTrust, forwardedChain, type TrustFn } from './proxy-trust.js';
export { encodeUrl, setCharset, type FormatHandler } from './response.js';
export { etag, compileEtag, type EtagFunction, type EtagOptions, type StatLike } from './etag.js';
export { contentDisposition, encodeExtValue, type ContentDispositionOptions } from './content-disposition.js';
export { serializeCookie, type CookieOptions } from './set-cookie.js';
export * from './body/index.js';
export { status, statusReport, formatStatus, type StatusOptions, type StatusReport } from './status.js';
