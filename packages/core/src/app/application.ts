// The app: settings, locals, sub-apps, and one stack (a Router) that runs its middleware, error
// middleware and routes with the one dispatcher (dispatch.ts). The chain's end — OPTIONS/405, the
// app's not-found and error hooks, the error renderer — is final-handler.ts.
import { EventEmitter } from 'node:events';
import { ENV_DEFAULT } from '../http/default-env.js';
import type { FcgiRequest, FcgiResponse } from '../http/index.js';
import { addEventMethods, appClasses, enterExtensions, inheritExtensions, leaveExtensions } from './extension.js';
import { endOfChain, type ErrorHook, type NotFoundHook } from './final-handler.js';
import type { Matcher } from './matcher.js';
import { literalPaths } from './matcher.js';
import { AppRequest } from './request.js';
import { AppResponse } from './response.js';
import { methodNames, type Route } from './route.js';
import type { AnyHandlers, Handlers, Merged, ParamCallback, PathArg, UseHandlers } from './route-types.js';
import { registerEngine, renderApp, viewDefaults, type RenderingApp } from './render.js';
import { Router } from './router.js';
import { defaultSettings, storeSetting } from './settings.js';
import type { ErrorMiddleware, Handle, Middleware, Mountable, NextFunction } from './types.js';
import type { RenderCallback, ViewEngine, ViewLike } from './view.js';

/** Marks settings whose 'trust proxy' is still the default: a mounted app then takes its parent's. */
const TRUST_PROXY_DEFAULT = Symbol('trust proxy default');

/** npm middleware typed for Express or node:http: our req/res stand in for those at run time. */
export type ForeignMiddleware = (req: any, res: any, next: (err?: any) => void) => unknown;

export interface AppOptions {
  /**
   * Compiles the paths of routes and mounts. The default reads literal paths and RegExps and
   * refuses patterns when they are added; `patterns` from @fcgi/router adds `:param`, `*splat`
   * and `{optional}` (path-to-regexp, as Express 5).
   */
  matcher?: Matcher;
}

type AppVerb<R> = {
  <const P extends PathArg>(path: P, ...handlers: Handlers<Merged<{}, P>>[]): R;
  <const P extends PathArg>(path: P, ...handlers: AnyHandlers<Merged<{}, P>>[]): R;
};

export interface App extends Application {
  /** An app is itself a handler: give it to createFcgiServer, serve(), or mount it in another app. */
  (req: FcgiRequest, res: FcgiResponse, next?: NextFunction): void;
}

// Apps are EventEmitters (addEventMethods below): app.on('mount', fn) and the rest.
export interface Application extends EventEmitter {
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
  /** Handlers for every method. */
  all: AppVerb<this>;
}

export class Application {
  /** Values shared by every request (`res.locals` holds per-request ones). */
  declare locals: Record<string, any>;
  declare settings: Record<string, any>;
  /** Where this app is mounted in its parent ('/' at the top). */
  declare mountpath: PathArg;
  declare parent: App | undefined;
  /** The classes the server should create for requests to this app (their prototypes are `request`, `response`). */
  declare Request: typeof AppRequest;
  declare Response: typeof AppResponse;
  /**
   * What this app's requests and responses inherit from: add helpers here (`app.response.sendOk =
   * function () {...}`), as in Express. A mounted app's fall back to its parent's.
   */
  declare request: AppRequest;
  declare response: AppResponse;
  declare matcher: Matcher;
  /**
   * The app's stack, made when the first middleware or route is added: 'case sensitive routing',
   * 'strict routing' and 'method not allowed' are read then, as Express reads them.
   */
  declare router: Router | undefined;
  declare notFoundHook: NotFoundHook<AppRequest, AppResponse> | undefined;
  declare errorHook: ErrorHook<AppRequest, AppResponse> | undefined;
  /** Template engines by extension ('.ejs'), from app.engine() or loaded by the first render. */
  declare engines: Record<string, ViewEngine>;
  /** Views found, by name, while 'view cache' is on. */
  declare cache: Record<string, ViewLike>;

  /**
   * Adds middleware, error middleware (four parameters), sub-apps or routers, for every path or
   * under a path: `use(fn)`, `use('/api', fn, ...)`, `use(['/a', '/b'], fn)`, arrays nest.
   */
  use(...handlers: (Middleware | Mountable | readonly (Middleware | Mountable)[])[]): this;
  use(...handlers: (ErrorMiddleware | readonly ErrorMiddleware[])[]): this;
  use<const P extends PathArg>(path: P, ...handlers: Handlers<Merged<{}, P>>[]): this;
  use(path: PathArg, ...handlers: (Middleware | Mountable | readonly (Middleware | Mountable)[])[]): this;
  use(path: PathArg, ...handlers: (ErrorMiddleware | readonly ErrorMiddleware[])[]): this;
  use(...handlers: (ForeignMiddleware | readonly ForeignMiddleware[])[]): this;
  use(path: PathArg, ...handlers: (ForeignMiddleware | readonly ForeignMiddleware[])[]): this;
  use(path: PathArg, ...handlers: UseHandlers[]): this;
  use(...args: unknown[]): this {
    let path: PathArg = '/';
    let first = args[0];
    while (Array.isArray(first) && first.length > 0) first = first[0];
    if (typeof first === 'string' || first instanceof RegExp) path = args.shift() as PathArg;
    const handles = (args as unknown[]).flat(Infinity) as Handle[];
    if (handles.length === 0) throw new TypeError('app.use() requires a middleware function');
    const mounted: App[] = [];
    const prepared = handles.map((handle) => {
      if (typeof handle !== 'function' && typeof (handle as { handle?: unknown } | null)?.handle !== 'function') {
        throw new TypeError(`app.use() requires a middleware function, got ${typeof handle}`);
      }
      if (handle instanceof Application) {
        const sub = handle as App;
        sub.mountpath = path;
        sub.parent = this as unknown as App;
        mounted.push(sub);
        return sub;
      }
      return isExpressApp(handle) ? mountExpress(handle) : handle;
    });
    routerOf(this).use(path, ...(prepared as UseHandlers[]));
    // Each sub-app's own 'mount' listener (onMount) inherits first, as in Express.
    for (const sub of mounted) sub.emit('mount', this);
    return this;
  }

  /** A route for `path` on the app: app.route('/x').get(a).post(b). */
  route<const P extends PathArg>(path: P): Route<Merged<{}, P>> {
    return routerOf(this).route(path);
  }

  /** Callbacks for `:name` in the app's routes (once per value per request). */
  param(name: string | readonly string[], fn: ParamCallback): this {
    routerOf(this).param(name, fn);
    return this;
  }

  /**
   * Answers requests nothing answered (default: 404 "Cannot GET /path"). Runs at the end of the
   * top-level app's chain; a throw or rejection goes to the default error answer.
   */
  notFound(fn: NotFoundHook<AppRequest, AppResponse>): this {
    if (typeof fn !== 'function') throw new TypeError('app.notFound() requires a function');
    this.notFoundHook = fn;
    return this;
  }

  /**
   * Answers errors no error middleware handled, after they were logged on FCGI_STDERR (default:
   * the error page, by Accept). Runs at the end of the top-level app's chain.
   */
  onError(fn: ErrorHook<AppRequest, AppResponse>): this {
    if (typeof fn !== 'function') throw new TypeError('app.onError() requires a function');
    this.errorHook = fn;
    return this;
  }

  /** Runs the chain for one request; `out` continues in a parent app, else the chain's end answers. */
  handle(req: FcgiRequest, res: FcgiResponse, out?: NextFunction): void {
    const app = this as unknown as App;
    const rq = upgrade(req, res, app);
    const rs = rq.res;
    const parentApp = rq.app;
    rq.app = rs.app = app;
    // The app's request/response prototypes while inside it (nothing to do for the top app).
    const saved = enterExtensions(rq, rs, this);
    const done: NextFunction = (err) => {
      if (saved) leaveExtensions(rq, rs, saved);
      rq.app = rs.app = parentApp ?? app;
      if (out) out(err);
      else
        endOfChain(rq, rs, err, {
          env: String(this.settings.env),
          notFound: this.notFoundHook,
          onError: this.errorHook,
        });
    };
    if (this.router) this.router.handle(rq, rs, done);
    else done();
  }

  /** Renders files ending in `ext` ('ejs' or '.ejs') with `fn(path, options, callback)`, as Express. */
  engine(ext: string, fn: ViewEngine): this {
    registerEngine(this as unknown as RenderingApp, ext, fn);
    return this;
  }

  /** Renders view `name` with app.locals and `options`, then calls back with the HTML (render.ts). */
  render(name: string, callback: RenderCallback): void;
  render(name: string, options: Record<string, any> | undefined, callback: RenderCallback): void;
  render(name: string, options: Record<string, any> | RenderCallback | undefined, callback?: RenderCallback): void {
    renderApp(this as unknown as RenderingApp, name, options, callback);
  }

  /** Sets a setting; `set(name)` alone reads it, as in Express. */
  set(name: string): any;
  set(name: string, value: unknown): this;
  set(name: string, ...value: unknown[]): any {
    if (value.length === 0) return this.settings[name];
    storeSetting(this.settings, name, value[0]);
    if (name === 'trust proxy') delete this.settings[TRUST_PROXY_DEFAULT as unknown as string];
    if (name === 'env') delete this.settings[ENV_DEFAULT as unknown as string];
    return this;
  }

  enable(name: string): this {
    return this.set(name, true);
  }

  disable(name: string): this {
    return this.set(name, false);
  }

  enabled(name: string): boolean {
    return Boolean(this.settings[name]);
  }

  disabled(name: string): boolean {
    return !this.settings[name];
  }

  /** The full mount path, parents included. */
  path(): string {
    return this.parent ? this.parent.path() + String(this.mountpath) : '';
  }
}

// Apps are functions (so they can be handlers), with Application's methods and EventEmitter's.
Object.setPrototypeOf(Application.prototype, Function.prototype);
addEventMethods(Application.prototype);

// app.get(name) reads a setting; with handlers, as app.post/put/... and every node:http method
// (as Express installs them), it adds a route to the app's stack.
function verb(method: string) {
  return function (this: Application, path: unknown, ...handlers: unknown[]) {
    if (method === 'get' && handlers.length === 0 && typeof path === 'string') return this.set(path);
    (routerOf(this) as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(path, ...handlers);
    return this;
  };
}
for (const method of [...methodNames, 'all']) {
  if (method !== 'get' && method in Application.prototype) continue; // never shadow bind, call...
  Object.defineProperty(Application.prototype, method, { configurable: true, writable: true, value: verb(method) });
}

/**
 * Every app's first 'mount' listener, as Express's: settings the sub-app has not set are read from
 * its parent's ('trust proxy' too while it is the default), and so are its request/response helpers.
 */
function onMount(this: App, parent: App): void {
  Object.setPrototypeOf(this.settings, parent.settings);
  if (Object.hasOwn(this.settings, TRUST_PROXY_DEFAULT)) {
    delete this.settings['trust proxy'];
    delete this.settings['trust proxy fn'];
  }
  if (Object.hasOwn(this.settings, ENV_DEFAULT)) delete this.settings.env;
  inheritExtensions(this, parent);
}

function routerOf(app: Application): Router {
  return (app.router ??= Router({
    caseSensitive: Boolean(app.settings['case sensitive routing']),
    strict: Boolean(app.settings['strict routing']),
    methodNotAllowed: app.settings['method not allowed'] !== false,
    matcher: app.matcher,
  }));
}

/** Makes a new app (a function with `proto`'s methods); createApp() gives it Application's and listen(). */
export function initApp<A extends App>(proto: object, options: AppOptions = {}): A {
  const app = function app(req: FcgiRequest, res: FcgiResponse, next?: NextFunction): void {
    (app as unknown as App).handle(req, res, next);
  } as unknown as A;
  Object.setPrototypeOf(app, proto);
  EventEmitter.call(app);
  app.locals = Object.create(null);
  // With no NODE_ENV, env reads 'development' until serve() settles it for the mode it picks.
  app.settings = defaultSettings(process.env.NODE_ENV || 'development');
  app.settings[TRUST_PROXY_DEFAULT as unknown as string] = true;
  if (!process.env.NODE_ENV) app.settings[ENV_DEFAULT as unknown as string] = true;
  Object.assign(app.settings, viewDefaults(app.settings.env === 'production'));
  app.settings['jsonp callback name'] = 'callback';
  app.locals.settings = app.settings;
  app.mountpath = '/';
  app.parent = undefined;
  const classes = appClasses();
  app.Request = classes.Request;
  app.Response = classes.Response;
  app.request = classes.Request.prototype;
  app.response = classes.Response.prototype;
  app.matcher = options.matcher ?? literalPaths;
  app.router = undefined;
  app.notFoundHook = undefined;
  app.errorHook = undefined;
  app.engines = Object.create(null);
  app.cache = Object.create(null);
  app.on('mount', onMount);
  return app;
}

/** An Express application (a function with handle/set and its request/response prototypes). */
function isExpressApp(h: unknown): h is ExpressLike {
  if (typeof h !== 'function' || h instanceof Application) return false;
  const e = h as unknown as Partial<ExpressLike>;
  return (
    typeof e.handle === 'function' &&
    typeof e.set === 'function' &&
    typeof e.request === 'object' &&
    typeof e.response === 'object'
  );
}

interface ExpressLike {
  (req: unknown, res: unknown, next: NextFunction): void;
  handle(req: unknown, res: unknown, next: NextFunction): void;
  set(name: string, value?: unknown): unknown;
  request: object;
  response: object;
}

/**
 * A whole Express app mounted inside ours: it swaps req/res prototypes and reads its settings
 * through req.app/res.app, so give it those and put ours back when it falls through.
 */
function mountExpress(sub: ExpressLike): Middleware {
  return function expressApp(req, res, next) {
    const reqProto = Object.getPrototypeOf(req);
    const resProto = Object.getPrototypeOf(res);
    const reqApp = req.app;
    const resApp = res.app;
    const r = req as unknown as { app: unknown };
    const s = res as unknown as { app: unknown };
    r.app = s.app = sub;
    sub.handle(req, res, (err?: unknown) => {
      Object.setPrototypeOf(req, reqProto);
      Object.setPrototypeOf(res, resProto);
      req.app = reqApp;
      res.app = resApp;
      next(err);
    });
  };
}

/** Gives a core request/response the app's shape when they were created by a plain server. */
function upgrade(req: FcgiRequest, res: FcgiResponse, app: App): AppRequest {
  const rq = req as AppRequest;
  if (!(req instanceof AppRequest)) {
    Object.setPrototypeOf(req, app.request);
    rq.params = {};
    rq.body = undefined;
    rq.app = app;
  }
  if (!(res instanceof AppResponse)) {
    Object.setPrototypeOf(res, app.response);
    (res as AppResponse).locals = Object.create(null);
    (res as AppResponse).app = app;
  }
  rq.res = res as AppResponse;
  return rq;
}
