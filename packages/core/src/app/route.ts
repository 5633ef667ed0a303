// A route: one path, and a stack of handlers each for one method (or all). HEAD runs the GET
// handlers when the route has no HEAD handler of its own; next('route') leaves the route.
import { METHODS } from 'node:http';
import { invoke, invokeError, MAX_SYNC, once } from './invoke.js';
import type { AnyHandlers, Handlers, Params, PathArg } from './route-types.js';
import type { NextFunction } from './contracts.js';

/** Lower-cased method names of node:http, as Express installs them. */
export const methodNames: readonly string[] = METHODS.map((m) => m.toLowerCase());

export interface RouteLayer {
  readonly handle: (...args: any[]) => unknown;
  /** Lower-case method, or undefined for all(). */
  readonly method: string | undefined;
  readonly error: boolean;
}

type Req = { method?: string; route?: unknown; url?: string; originalUrl?: string };

export interface Route<P extends Params = Params> {
  get(...handlers: Handlers<P>[]): this;
  get(...handlers: AnyHandlers<P>[]): this;
  post(...handlers: Handlers<P>[]): this;
  post(...handlers: AnyHandlers<P>[]): this;
  put(...handlers: Handlers<P>[]): this;
  put(...handlers: AnyHandlers<P>[]): this;
  patch(...handlers: Handlers<P>[]): this;
  patch(...handlers: AnyHandlers<P>[]): this;
  delete(...handlers: Handlers<P>[]): this;
  delete(...handlers: AnyHandlers<P>[]): this;
  head(...handlers: Handlers<P>[]): this;
  head(...handlers: AnyHandlers<P>[]): this;
  options(...handlers: Handlers<P>[]): this;
  options(...handlers: AnyHandlers<P>[]): this;
  /** Handlers for every method. */
  all(...handlers: Handlers<P>[]): this;
  all(...handlers: AnyHandlers<P>[]): this;
}

export class Route<P extends Params = Params> {
  readonly path: PathArg;
  readonly stack: RouteLayer[] = [];
  /** Methods with handlers, lower-cased; `_all` when all() was used. */
  readonly methods: Record<string, boolean> = Object.create(null);

  constructor(path: PathArg) {
    this.path = path;
  }

  /** True when a request with `method` has handlers here (HEAD counts GET's). */
  handles(method: string): boolean {
    return this.handlesLower(method.toLowerCase());
  }

  /** handles() for a method already in lower case. */
  handlesLower(name: string): boolean {
    return this.#all || this.#handled.has(name);
  }

  // `methods` as Express keeps it, and the same as a set (with HEAD when GET) for fast checks.
  #all = false;
  #handled = new Set<string>();

  /** Methods for an Allow header: upper case, HEAD added when GET is there. */
  allowed(): string[] {
    const out: string[] = [];
    for (const m of Object.keys(this.methods)) if (m !== '_all') out.push(m.toUpperCase());
    if (this.methods.get && !this.methods.head) out.push('HEAD');
    return out;
  }

  /** Runs the handlers for the request's method; `done` continues in the router. */
  dispatch(req: Req, res: unknown, done: NextFunction): void {
    const stack = this.stack;
    if (stack.length === 0) return done();
    let method = typeof req.method === 'string' ? req.method.toLowerCase() : '';
    if (method === 'head' && !this.methods.head) method = 'get';
    req.route = this;
    let idx = 0;
    let sync = 0;
    const next = (err?: unknown): void => {
      if (err === 'route') return done();
      if (err === 'router') return done(err);
      if (++sync > MAX_SYNC) {
        setImmediate(next, err);
        return;
      }
      let layer: RouteLayer | undefined;
      while (idx < stack.length) {
        const l = stack[idx++]!;
        if (l.method !== undefined && l.method !== method) continue;
        // Arity decides: error handlers only see errors, the others only run without one.
        if (l.error !== Boolean(err)) continue;
        layer = l;
        break;
      }
      if (!layer) return done(err);
      const step = once(next, layer.handle.name || '<anonymous>', req, res);
      if (layer.error) invokeError(layer.handle, err, req, res, step);
      else invoke(layer.handle, req, res, step);
      sync = 0;
    };
    next();
  }

  /** Adds handlers for `method` (lower case), or for all when undefined. */
  add(method: string | undefined, handlers: readonly unknown[]): this {
    const fns = (handlers as unknown[]).flat(Infinity);
    if (fns.length === 0) throw new TypeError('argument handler is required');
    for (const fn of fns) {
      if (typeof fn !== 'function') throw new TypeError(`argument handler must be a function, got ${typeof fn}`);
      this.stack.push({ handle: fn as RouteLayer['handle'], method, error: fn.length === 4 });
      this.methods[method ?? '_all'] = true;
      if (method === undefined) this.#all = true;
      else this.#handled.add(method);
      if (method === 'get') this.#handled.add('head');
    }
    return this;
  }
}

for (const method of [...methodNames, 'all']) {
  Object.defineProperty(Route.prototype, method, {
    configurable: true,
    writable: true,
    value: function (this: Route, ...handlers: unknown[]) {
      return this.add(method === 'all' ? undefined : method, handlers);
    },
  });
}
