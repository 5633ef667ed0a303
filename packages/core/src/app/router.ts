// Router(options): a function (req, res, next) holding a stack of middleware and routes, with
// Express 5's API — get/post/.../all(path, ...handlers), route(path), use([path,] ...), param().
import { dispatch } from './dispatch.js';
import { Layer } from './layer.js';
import { literalPaths, type Matcher, type PathIndex } from './matcher.js';
import { AppRequest } from './request.js';
import { AppResponse } from './response.js';
import { Route, methodNames } from './route.js';
import type {
  AnyHandlers,
  ErrorHandler,
  Handlers,
  Merged,
  ParamCallback,
  Params,
  PathArg,
  UseHandlers,
} from './route-types.js';
import type { Mountable, NextFunction } from './types.js';

export interface RouterOptions {
  /** '/Users' and '/users' differ (default false). */
  caseSensitive?: boolean;
  /** '/users/' and '/users' differ (default false). */
  strict?: boolean;
  /** req.params keeps the parent router's params (default false). */
  mergeParams?: boolean;
  /**
   * A path that has routes, but none for the request's method, is answered 405 with `Allow` when
   * nothing later in the chain answers it (default true). OPTIONS is answered either way.
   */
  methodNotAllowed?: boolean;
  /**
   * Compiles (and indexes) the paths of this router's layers. The default, `literalPaths`, reads
   * literal paths and RegExps; `patterns` from @fcgi/router adds path-to-regexp's syntax.
   */
  matcher?: Matcher;
}

type Verb<M extends Params, R> = {
  <const P extends PathArg>(path: P, ...handlers: Handlers<Merged<M, P>>[]): R;
  <const P extends PathArg>(path: P, ...handlers: AnyHandlers<Merged<M, P>>[]): R;
};

export interface Router<M extends Params = {}> {
  /** A router is a handler: mount it with app.use(), or give it to a server. */
  (req: AppRequest, res: AppResponse, next?: NextFunction): void;
  readonly stack: Layer[];
  /** Param callbacks by name. */
  params: Record<string, ParamCallback[]>;
  caseSensitive: boolean;
  strict: boolean;
  mergeParams: boolean;
  methodNotAllowed: boolean;
  readonly matcher: Matcher;
  /** Classes a server creates for requests when this router is its handler. */
  Request: typeof AppRequest;
  Response: typeof AppResponse;
  handle(req: AppRequest, res: AppResponse, next?: NextFunction): void;
  /** Middleware, error middleware, sub-routers and sub-apps, for every path or under `path`. */
  use(...handlers: Handlers<M>[]): this;
  use(...handlers: (ErrorHandler<M> | readonly ErrorHandler<M>[])[]): this;
  use<const P extends PathArg>(path: P, ...handlers: Handlers<Merged<M, P>>[]): this;
  use<const P extends PathArg>(
    path: P,
    ...handlers: (ErrorHandler<Merged<M, P>> | readonly ErrorHandler<Merged<M, P>>[])[]
  ): this;
  use(...handlers: UseHandlers[]): this;
  use(path: PathArg, ...handlers: UseHandlers[]): this;
  /** A route for `path`, to chain handlers per method: route('/x').get(a).post(b). */
  route<const P extends PathArg>(path: P): Route<Merged<M, P>>;
  /** Callbacks run before the layers whose path has `:name` (once per value per request). */
  param(name: string | readonly string[], fn: ParamCallback): this;
  /** Rebuilds the index after the stack was changed other than by this API. */
  reindex(): void;
  get: Verb<M, this>;
  post: Verb<M, this>;
  put: Verb<M, this>;
  patch: Verb<M, this>;
  delete: Verb<M, this>;
  head: Verb<M, this>;
  options: Verb<M, this>;
  all: Verb<M, this>;
}

export interface RouterConstructor {
  <M extends Params = {}>(options?: RouterOptions): Router<M>;
  new <M extends Params = {}>(options?: RouterOptions): Router<M>;
  readonly prototype: Router;
}

interface RouterState extends Router<Params> {
  index: PathIndex | undefined;
  indexed: number;
  lookup(): PathIndex;
}

/** Every layer, in order: the index of a matcher that has none. */
class Unindexed implements PathIndex {
  readonly #all: readonly number[];
  constructor(size: number) {
    this.#all = Array.from({ length: size }, (_, i) => i);
  }

  candidates(): readonly number[] {
    return this.#all;
  }
}

class RouterProto {
  handle(this: RouterState, req: AppRequest, res: AppResponse, next?: NextFunction): void {
    dispatch(this, req, res, next);
  }

  /** The index, rebuilt when the stack changed. */
  lookup(this: RouterState): PathIndex {
    if (!this.index || this.indexed !== this.stack.length) {
      this.index = this.matcher.index
        ? this.matcher.index(this.stack, this.caseSensitive)
        : new Unindexed(this.stack.length);
      this.indexed = this.stack.length;
    }
    return this.index;
  }

  reindex(this: RouterState): void {
    this.index = undefined;
  }

  use(this: RouterState, ...args: unknown[]): RouterState {
    let path: PathArg = '/';
    let first = args[0];
    while (Array.isArray(first) && first.length > 0) first = first[0];
    if (typeof first === 'string' || first instanceof RegExp) path = args.shift() as PathArg;
    const handlers = args.flat(Infinity);
    if (handlers.length === 0) throw new TypeError('argument handler is required');
    for (const h of handlers) {
      const fn =
        typeof h === 'function'
          ? (h as (...a: unknown[]) => unknown)
          : typeof (h as Mountable | null)?.handle === 'function'
            ? function handle(req: AppRequest, res: AppResponse, next: NextFunction) {
                return (h as Mountable).handle(req, res, next);
              }
            : undefined;
      if (!fn) throw new TypeError(`argument handler must be a function, got ${typeof h}`);
      this.stack.push(new Layer(path, { sensitive: this.caseSensitive, strict: false, end: false }, fn, this.matcher));
    }
    return this;
  }

  route(this: RouterState, path: PathArg): Route {
    const route = new Route(path);
    const options = { sensitive: this.caseSensitive, strict: this.strict, end: true };
    const handle = function handle(req: AppRequest, res: AppResponse, next: NextFunction) {
      route.dispatch(req, res, next);
    };
    this.stack.push(new Layer(path, options, handle, this.matcher, route));
    return route;
  }

  param(this: RouterState, name: string | readonly string[], fn: ParamCallback): RouterState {
    if (Array.isArray(name)) {
      for (const n of name) this.param(n, fn);
      return this;
    }
    if (typeof name !== 'string' || name === '') throw new TypeError('argument name must be a non-empty string');
    if (typeof fn !== 'function') throw new TypeError('argument fn must be a function');
    (this.params[name as string] ??= []).push(fn);
    return this;
  }

  all(this: RouterState, path: PathArg, ...handlers: unknown[]): RouterState {
    this.route(path).add(undefined, handlers);
    return this;
  }
}

// Routers are functions (so they can be handlers), with the methods above.
Object.setPrototypeOf(RouterProto.prototype, Function.prototype);
Object.assign(RouterProto.prototype, { Request: AppRequest, Response: AppResponse });
for (const method of methodNames) {
  if (method in RouterProto.prototype) continue; // 'bind' stays Function.prototype.bind
  Object.defineProperty(RouterProto.prototype, method, {
    configurable: true,
    writable: true,
    value: function (this: RouterState, path: PathArg, ...handlers: unknown[]) {
      this.route(path).add(method, handlers);
      return this;
    },
  });
}

function createRouter(options: RouterOptions = {}): Router {
  const router = function router(req: AppRequest, res: AppResponse, next?: NextFunction): void {
    dispatch(state, req, res, next);
  } as unknown as RouterState;
  const state = router;
  Object.setPrototypeOf(router, RouterProto.prototype);
  Object.assign(router, {
    stack: [],
    params: {},
    caseSensitive: options.caseSensitive === true,
    strict: options.strict === true,
    mergeParams: options.mergeParams === true,
    methodNotAllowed: options.methodNotAllowed !== false,
    matcher: options.matcher ?? literalPaths,
    index: undefined,
    indexed: -1,
  });
  return router;
}

/** Creates a router; callable with or without `new`, as Express's. */
export const Router = function Router(options?: RouterOptions): Router {
  return createRouter(options);
} as unknown as RouterConstructor;
(Router as { prototype: unknown }).prototype = RouterProto.prototype;
