// The app: a Connect/Express-style middleware chain with mounting, error middleware, async
// handlers, settings, and listen() that runs it the way the host asks.
import { serve, type ServeOptions, type Serving } from '../serve.js';
import type { ListenTarget } from '../server/index.js';
import { FcgiRequest, FcgiResponse } from '../http/index.js';
import { finalHandler } from './final-handler.js';
import { AppRequest } from './request.js';
import { AppResponse } from './response.js';
import type { ErrorMiddleware, Handle, Middleware, Mountable, NextFunction } from './types.js';

/** Marks settings whose 'trust proxy' is still the default: a mounted app then takes its parent's. */
const TRUST_PROXY_DEFAULT = Symbol('trust proxy default');

/** npm middleware typed for Express or node:http: our req/res stand in for those at run time. */
export type ForeignMiddleware = (req: any, res: any, next: (err?: any) => void) => unknown;

interface Layer {
  /** Mount path without a trailing slash, lower-cased ('' matches everything). */
  path: string;
  handle: Handle;
  /** An error middleware (four parameters). */
  error: boolean;
}

/** Synchronous next() calls in a row before the chain yields to the event loop (no stack overflow). */
const MAX_SYNC_DEPTH = 100;

export interface App extends Application {
  /** An app is itself a handler: give it to createFcgiServer, serve(), or mount it in another app. */
  (req: FcgiRequest, res: FcgiResponse, next?: NextFunction): void;
}

export class Application {
  declare stack: Layer[];
  /** Values shared by every request (`res.locals` holds per-request ones). */
  declare locals: Record<string, any>;
  declare settings: Record<string, any>;
  /** Where this app is mounted in its parent ('/' at the top). */
  declare mountpath: string;
  declare parent: App | undefined;
  /** The classes the server should create for requests to this app. */
  declare Request: typeof AppRequest;
  declare Response: typeof AppResponse;

  /**
   * Adds middleware, error middleware (four parameters), sub-apps or routers, for every path or
   * under a path prefix: `use(fn)`, `use('/api', fn, ...)`, `use(['/a', '/b'], fn)`, arrays nest.
   */
  use(...handlers: (Middleware | Mountable | readonly (Middleware | Mountable)[])[]): this;
  use(...handlers: (ErrorMiddleware | readonly ErrorMiddleware[])[]): this;
  use(path: string | readonly string[], ...handlers: (Middleware | Mountable | readonly (Middleware | Mountable)[])[]): this;
  use(path: string | readonly string[], ...handlers: (ErrorMiddleware | readonly ErrorMiddleware[])[]): this;
  use(...handlers: (ForeignMiddleware | readonly ForeignMiddleware[])[]): this;
  use(path: string | readonly string[], ...handlers: (ForeignMiddleware | readonly ForeignMiddleware[])[]): this;
  use(...args: unknown[]): this {
    let paths: string[] = ['/'];
    if (typeof args[0] === 'string' || (Array.isArray(args[0]) && typeof args[0][0] === 'string')) {
      paths = ([] as string[]).concat(args.shift() as string | string[]);
    }
    const handles = (args as unknown[]).flat(Infinity) as Handle[];
    if (handles.length === 0) throw new TypeError('app.use() requires a middleware function');
    for (const path of paths) {
      for (let handle of handles) {
        if (typeof handle !== 'function' && typeof (handle as { handle?: unknown })?.handle !== 'function') {
          throw new TypeError(`app.use() requires a middleware function, got ${typeof handle}`);
        }
        const sub = handle as Partial<App>;
        if (sub instanceof Function && Object.getPrototypeOf(sub) === Application.prototype) {
          sub.mountpath = path;
          sub.parent = this as unknown as App;
          // As Express: settings a sub-app has not set are read from its parent's.
          Object.setPrototypeOf(sub.settings!, this.settings);
          if (Object.hasOwn(sub.settings!, TRUST_PROXY_DEFAULT)) delete sub.settings!['trust proxy'];
        }
        if (isExpressApp(handle)) handle = mountExpress(handle);
        const norm = path.endsWith('/') ? path.slice(0, -1) : path;
        this.stack.push({ path: norm.toLowerCase(), handle, error: typeof handle === 'function' && handle.length === 4 });
      }
    }
    return this;
  }

  /** Runs the chain for one request; `out` continues in a parent app, else the final handler answers. */
  handle(req: FcgiRequest, res: FcgiResponse, out?: NextFunction): void {
    const app = this as unknown as App;
    const rq = upgrade(req, res, app);
    const rs = rq.res;
    const parentApp = rq.app;
    rq.app = rs.app = app;
    const stack = this.stack;
    const baseUrl = rq.baseUrl;
    let index = 0;
    let removed = '';
    let depth = 0;
    const done: NextFunction = (err) => {
      rq.app = rs.app = parentApp ?? app;
      if (out) out(err);
      else finalHandler(rq, rs, String(this.settings.env), err);
    };

    const next = (err?: unknown): void => {
      if (removed) {
        rq.url = removed + (rq.url === '/' ? '' : rq.url);
        rq.baseUrl = baseUrl;
        removed = '';
      }
      if (err === 'route' || err === 'router') {
        // 'router' leaves this app the way it leaves a router; 'route' has no meaning here.
        if (err === 'router') index = stack.length;
        err = undefined;
      }
      const path = pathOf(rq.url).toLowerCase();
      let layer: Layer | undefined;
      while (index < stack.length) {
        const l = stack[index++]!;
        if (l.error !== (err !== undefined) || !matches(l.path, path)) continue;
        layer = l;
        break;
      }
      if (!layer) return done(err);
      if (layer.path) {
        removed = rq.url.slice(0, layer.path.length);
        const rest = rq.url.slice(layer.path.length);
        rq.url = rest[0] === '/' ? rest : '/' + rest;
        rq.baseUrl = baseUrl + removed;
      }
      const step = once(next, rs);
      // As Express's router does: helpers such as res.format() hand their errors to req.next.
      rq.next = step;
      if (++depth > MAX_SYNC_DEPTH) {
        depth = 0;
        setImmediate(call, layer, err, rq, rs, step);
      } else {
        call(layer, err, rq, rs, step);
      }
      depth = 0;
    };
    next();
  }

  /** Sets a setting; `set(name)` alone reads it, as in Express. */
  set(name: string): any;
  set(name: string, value: unknown): this;
  set(name: string, ...value: unknown[]): any {
    if (value.length === 0) return this.settings[name];
    this.settings[name] = value[0];
    if (name === 'trust proxy') delete this.settings[TRUST_PROXY_DEFAULT as unknown as string];
    return this;
  }

  setting(name: string): any {
    return this.settings[name];
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
    return this.parent ? this.parent.path() + this.mountpath : '';
  }

  /**
   * Serves the app the way the host asks: a listening socket on fd 0, FCGI_LISTEN, a CGI
   * environment, the `target` given here, or else the development gateway on http://127.0.0.1:3000.
   */
  listen(target?: ListenTarget, options: Omit<ServeOptions, 'target'> = {}): Promise<Serving> {
    return serve(this as unknown as App, { ...options, ...(target === undefined ? {} : { target }) });
  }
}

// Apps are functions (so they can be handlers), with Application's methods.
Object.setPrototypeOf(Application.prototype, Function.prototype);

export function createApp(): App {
  const app = function app(req: FcgiRequest, res: FcgiResponse, next?: NextFunction): void {
    (app as App).handle(req, res, next);
  } as App;
  Object.setPrototypeOf(app, Application.prototype);
  app.stack = [];
  app.locals = Object.create(null);
  app.settings = { env: process.env.NODE_ENV || 'development', 'trust proxy': false, [TRUST_PROXY_DEFAULT]: true };
  app.locals.settings = app.settings;
  app.mountpath = '/';
  app.parent = undefined;
  app.Request = AppRequest;
  app.Response = AppResponse;
  return app;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** A mount path matches itself and what lies below it, at a segment boundary. */
function matches(prefix: string, path: string): boolean {
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  const c = path.charCodeAt(prefix.length);
  return Number.isNaN(c) || c === 47 /* / */;
}

function call(layer: Layer, err: unknown, req: AppRequest, res: AppResponse, next: NextFunction): void {
  try {
    const result = layer.error
      ? (layer.handle as ErrorMiddleware)(err, req, res, next)
      : typeof layer.handle === 'function'
        ? (layer.handle as Middleware)(req, res, next)
        : layer.handle.handle(req, res, next);
    // An async handler's rejection is passed on like next(err).
    if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, (e) => next(e ?? new Error('rejected without a reason')));
    }
  } catch (e) {
    next(e);
  }
}

/** A next() that runs once; a second call is a bug in the middleware, reported on FCGI_STDERR. */
function once(next: NextFunction, res: FcgiResponse): NextFunction {
  let called = false;
  return (err?: unknown) => {
    if (called) {
      const where = new Error().stack?.split('\n').slice(2, 5).map((l) => l.trim()).join(' | ');
      const text = `next() called more than once, ignored: ${where}\n`;
      if (res.writableEnded) process.stderr.write(text);
      else res.err(text.trimEnd());
      return;
    }
    called = true;
    next(err);
  };
}

/** An Express application (a function with handle/set and its request/response prototypes). */
function isExpressApp(h: unknown): h is ExpressLike {
  if (typeof h !== 'function' || h instanceof Application) return false;
  const e = h as unknown as Partial<ExpressLike>;
  return typeof e.handle === 'function' && typeof e.set === 'function' &&
    typeof e.request === 'object' && typeof e.response === 'object';
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
    Object.setPrototypeOf(req, AppRequest.prototype);
    rq.params = {};
    rq.baseUrl = '';
    rq.originalUrl = req.url;
    rq.body = undefined;
    rq.app = app;
  }
  if (!(res instanceof AppResponse)) {
    Object.setPrototypeOf(res, AppResponse.prototype);
    (res as AppResponse).locals = Object.create(null);
    (res as AppResponse).app = app;
  }
  rq.res = res as AppResponse;
  return rq;
}
