// @fcgi/router: path-to-regexp's syntax for @fcgi/core's apps and routers, with an index over each
// stack. The dispatcher is the core's: this package only compiles and indexes paths.
import {
  Router as CoreRouter,
  type Router as RouterType,
  type RouterConstructor,
  type RouterOptions,
} from '@fcgi/core';
import { patterns } from './patterns.js';

export { patterns } from './patterns.js';

/** The core's Router with `patterns` as its matcher (another `matcher` may still be given). */
export const Router = function Router(options: RouterOptions = {}): RouterType {
  return CoreRouter({ matcher: patterns, ...options });
} as unknown as RouterConstructor;
// The same routers as the core's: `instanceof Router` holds for both.
(Router as { prototype: unknown }).prototype = CoreRouter.prototype;
export type Router<M extends Record<string, any> = {}> = RouterType<M>;
