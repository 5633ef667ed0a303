// @fcgi/router: routing on path-to-regexp v9 with Express 5's semantics and an indexed lookup.
// Importing it also gives @fcgi/core's apps app.get/post/.../all/route/param (see app.ts).
export { Router, type RouterOptions, type RouterConstructor } from './router.js';
export { Route, type RouteLayer } from './route.js';
export { Layer, decodeParam, type LayerMatch, type LayerOptions } from './layer.js';
export { allowedMethods, type AllowedMethodsOptions } from './allowed.js';
export { installed } from './app.js';
export type {
  AnyHandlers, ErrorHandler, Handlers, Merged, ParamCallback, Params, ParamsFor, ParamsOf, PathArg,
  RequestHandler, RouteRequest, UseHandlers,
} from './types.js';
