// Routing on the app itself: app.get/post/.../all/route/param, installed on @fcgi/core's
// Application when this package is imported (the core does not know about routers).
//
// Routes go into routers the app creates lazily and runs as its middleware. To keep Express's
// order — where app.use() and app.get() share one stack — consecutive route definitions share one
// router, and a route defined after other middleware starts a new one at that position. These
// segments share the app's param callbacks. OPTIONS and 405 are answered at the end of a
// top-level app's chain, when nothing else answered.
import { Application, finalHandler, type App, type AppRequest, type AppResponse, type NextFunction } from '@fcgi/core';
import { answerAllowed } from './allowed.js';
import { Route, methodNames } from './route.js';
import { Router } from './router.js';
import type { AnyHandlers, Handlers, Merged, ParamCallback, PathArg, UseHandlers } from './types.js';

type AppVerb<R> = {
  <const P extends PathArg>(path: P, ...handlers: Handlers<Merged<{}, P>>[]): R;
  <const P extends PathArg>(path: P, ...handlers: AnyHandlers<Merged<{}, P>>[]): R;
};

declare module '@fcgi/core' {
  interface Application {
    /** With one argument, the setting `name` (as app.set(name)); else a GET route. */
    get(name: string): any;
    get<const P extends PathArg>(path: P, ...handlers: Handlers<Merged<{}, P>>[]): this;
    get<const P extends PathArg>(path: P, ...handlers: AnyHandlers<Merged<{}, P>>[]): this;
    post: AppVerb<this>;
    put: AppVerb<this>;
    patch: AppVerb<this>;
    delete: AppVerb<this>;
    head: AppVerb<this>;
    options: AppVerb<this>;
    all: AppVerb<this>;
    /** A route for `path` on the app: app.route('/x').get(a).post(b). */
    route<const P extends PathArg>(path: P): Route<Merged<{}, P>>;
    /** Callbacks for `:name` in the app's routes (once per value per request). */
    param(name: string | readonly string[], fn: ParamCallback): this;
    /** A RegExp mount path (strings with :params, *splats or {groups} work as in Express too). */
    use(path: RegExp | readonly (string | RegExp)[], ...handlers: UseHandlers[]): this;
  }
}

const TABLE = Symbol.for('@fcgi/router.appRoutes');

interface AppRoutes {
  params: Record<string, ParamCallback[]>;
  last: Router | undefined;
}

/** The router taking the app's next route: the last one, if nothing was added to the app after it. */
function segment(app: App): Router {
  const holder = app as unknown as { [TABLE]?: AppRoutes };
  const table = (holder[TABLE] ??= { params: {}, last: undefined });
  const top = app.stack[app.stack.length - 1];
  if (table.last && top?.handle === table.last) return table.last;
  // Read when the router is made, as Express reads them when it makes its router.
  const router = Router({
    caseSensitive: Boolean(app.set('case sensitive routing')),
    strict: Boolean(app.set('strict routing')),
    methodNotAllowed: app.set('method not allowed') !== false,
  });
  router.params = table.params;
  (router as unknown as { sharedMemo: boolean }).sharedMemo = true;
  app.use(router);
  table.last = router;
  return router;
}

const proto = Application.prototype as unknown as Record<string, unknown>;

function install(name: string, value: (this: App, ...args: any[]) => unknown): void {
  Object.defineProperty(proto, name, { configurable: true, writable: true, value });
}

install('get', function (this: App, path: unknown, ...handlers: unknown[]) {
  if (handlers.length === 0 && typeof path === 'string') return this.set(path);
  (segment(this) as unknown as { get(...a: unknown[]): unknown }).get(path, ...handlers);
  return this;
});
for (const method of [...methodNames, 'all']) {
  if (method === 'get' || method in proto) continue; // never shadow what apps have (bind, call...)
  install(method, function (this: App, path: unknown, ...handlers: unknown[]) {
    (segment(this) as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(path, ...handlers);
    return this;
  });
}
install('route', function (this: App, path: PathArg) {
  return segment(this).route(path);
});
install('param', function (this: App, name: string | readonly string[], fn: ParamCallback) {
  const holder = this as unknown as { [TABLE]?: AppRoutes };
  const table = (holder[TABLE] ??= { params: {}, last: undefined });
  const names = typeof name === 'string' ? [name] : name;
  for (const n of names) {
    if (typeof n !== 'string' || n === '') throw new TypeError('argument name must be a non-empty string');
    if (typeof fn !== 'function') throw new TypeError('argument fn must be a function');
    (table.params[n] ??= []).push(fn);
  }
  return this;
});

// app.use() with a path pattern (`/repos/:owner/:repo`, `/files/*rest`, a RegExp): the core
// mounts plain prefixes only, so such a mount goes through a router, which strips what the pattern
// matched and gives its params (read with mergeParams, as in Express). Plain prefixes stay the core's.
const coreUse = Application.prototype.use as ((this: Application, ...args: unknown[]) => Application) & { routerAware?: boolean };
const PATTERN = /[:*{}()\\]/;
if (!coreUse.routerAware) {
  const use = function use(this: App, ...args: unknown[]) {
    const first = args[0];
    const paths = typeof first === 'string' || first instanceof RegExp ? [first]
      : Array.isArray(first) && first.length > 0 && (typeof first[0] === 'string' || first[0] instanceof RegExp) ? (first as unknown[]).flat(Infinity)
        : undefined;
    if (!paths || !paths.some((p) => p instanceof RegExp || (typeof p === 'string' && PATTERN.test(p)))) {
      return coreUse.apply(this, args);
    }
    // Let the core prepare the handlers as it does for any mount (sub-apps get their parent and
    // its settings, Express apps a wrapper), then take them back into the router.
    const before = this.stack.length;
    coreUse.apply(this, args.slice(1));
    const handles = this.stack.splice(before).map((layer) => layer.handle);
    for (const h of handles) if (h instanceof Application) Object.assign(h, { mountpath: first });
    const router = Router({ caseSensitive: Boolean(this.set('case sensitive routing')) });
    (router.use as (...a: unknown[]) => unknown)(first, ...handles);
    return coreUse.call(this, router);
  };
  Object.assign(use, { routerAware: true });
  install('use', use);
}

// The end of a top-level app's chain: OPTIONS and 405 for what its routers noted, else the
// core's final handler (404, or the error). Sub-apps pass both on to their parent.
const coreHandle = Application.prototype.handle;
if (!(coreHandle as { routerAware?: boolean }).routerAware) {
  const handle = function handle(this: Application, req: AppRequest, res: AppResponse, out?: NextFunction): void {
    if (out) return coreHandle.call(this, req, res, out);
    coreHandle.call(this, req, res, (err?: unknown) => {
      if (err === undefined && answerAllowed(req, res)) return;
      finalHandler(req, res, String(this.settings.env), err);
    });
  };
  Object.assign(handle, { routerAware: true });
  install('handle', handle as never);
}

/** True once the app shortcuts are installed (they are, by importing this package). */
export const installed = true;
