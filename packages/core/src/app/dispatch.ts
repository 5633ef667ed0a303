// One request through one router, with Express 5's rules: layers in stack order (the index only
// leaves out layers that cannot match); use() layers strip their prefix from req.url and extend
// req.baseUrl, restored when they call next(); routes only for their methods; errors skip to
// error handlers (four parameters) and skip routes; next('route') and next('router'); param
// callbacks before the layer; req.params/baseUrl/next restored on the way out.
import { noteAllowed, unsendableOptions } from './allowed.js';
import { endOfChain } from './final-handler.js';
import { invoke, invokeError, MAX_SYNC, once } from './invoke.js';
import type { Layer } from './layer.js';
import type { PathIndex, PathMatch } from './matcher.js';
import { mergeParams, runParamCallbacks, type ParamMemo } from './params.js';
import type { ParamCallback } from './route-types.js';
import type { NextFunction } from './contracts.js';

export interface Dispatchable {
  readonly stack: Layer[];
  params: Record<string, ParamCallback[]>;
  mergeParams: boolean;
  methodNotAllowed: boolean;
  lookup(): PathIndex;
}

export interface RoutingRequest {
  method?: string;
  url: string;
  params?: Record<string, any>;
  baseUrl?: string;
  originalUrl?: string;
  next?: NextFunction;
  route?: unknown;
}

const EMPTY: readonly number[] = [];

export function dispatch(router: Dispatchable, req: RoutingRequest, res: unknown, out?: NextFunction): void {
  const stack = router.stack;
  const index = router.lookup();
  const protohost = typeof req.url === 'string' ? protohostOf(req.url) : '';
  const parentParams = req.params;
  const parentUrl = req.baseUrl || '';
  const parentNext = req.next;
  let memo: ParamMemo | undefined;
  let idx = 0;
  let removed = '';
  let slashAdded = false;
  let sync = 0;
  let candidates = EMPTY;
  let ci = 0;
  let candidatesPath: string | undefined;
  /** A route was passed over for its method since the last noteMethods(); routes before `noted` are noted. */
  let skipped = false;
  let noted = 0;
  let methodSeen: string | undefined;
  let lower = '';

  const done = (err: unknown): void => {
    req.baseUrl = parentUrl;
    req.next = parentNext;
    req.params = parentParams;
    if (!err && skipped) noteMethods(idx);
    if (!err) err = unsendableOptions(req, res as { headersSent?: boolean });
    if (out) out(err || undefined);
    else finish(req, res, err || undefined);
  };

  /**
   * Notes the methods of the routes before `to` passed over because they lack this request's
   * method: before a use() layer runs (it may be allowedMethods()), and when the stack ends.
   */
  const noteMethods = (to: number): void => {
    skipped = false;
    const from = noted;
    noted = to;
    const method = req.method ?? 'GET';
    if ((method !== 'OPTIONS' && !router.methodNotAllowed) || !hasPath(req.url)) return;
    const lower = method.toLowerCase();
    const path = pathnameOf(req.url, protohost.length);
    for (const i of index.candidates(path)) {
      if (i < from) continue;
      if (i >= to) break;
      const route = stack[i]!.route;
      if (!route || route.handlesLower(lower)) continue;
      let m: PathMatch | false = false;
      try {
        m = stack[i]!.match(path);
      } catch {
        // a malformed escape: that route could not match
      }
      if (m) noteAllowed(req, route.allowed());
    }
  };

  const next = (err?: unknown): void => {
    let layerError = err === 'route' ? undefined : err;
    if (slashAdded) {
      const u = req.url ?? '';
      if (u === '/' || u.startsWith('/?') || (removed.endsWith('/') && u[0] === '/')) req.url = u.slice(1);
      slashAdded = false;
    }
    if (removed.length !== 0) {
      req.baseUrl = parentUrl;
      req.url = protohost + removed + (req.url ?? '').slice(protohost.length);
      removed = '';
    }
    if (layerError === 'router') return done(undefined);
    if (idx >= stack.length) return done(layerError);
    if (++sync > MAX_SYNC) {
      setImmediate(next, err);
      return;
    }
    // No path to match (req.url missing, empty, or only a query): the router ends, as Express's.
    if (!hasPath(req.url)) return done(layerError);
    const path = pathnameOf(req.url, protohost.length);
    // Read at each step: middleware may change it (method-override), as Express allows.
    const method = req.method ?? 'GET';
    if (method !== methodSeen) {
      methodSeen = method;
      lower = method.toLowerCase();
    }
    if (path !== candidatesPath) {
      candidatesPath = path;
      candidates = index.candidates(path);
      ci = 0;
    }
    let layer: Layer | undefined;
    let match: PathMatch | false = false;
    while (ci < candidates.length) {
      const i = candidates[ci++]!;
      if (i < idx) continue;
      idx = i + 1;
      const l = stack[i]!;
      const route = l.route;
      if (route) {
        // Routes never run with a pending error, nor for a method they lack.
        if (layerError) continue;
        if (!route.handlesLower(lower)) {
          skipped = true;
          continue;
        }
      } else if (l.error !== Boolean(layerError)) {
        continue; // error handlers only see errors; the others only run without one
      }
      try {
        match = l.match(path);
      } catch (e) {
        layerError = layerError || e; // a malformed escape: a 400 error, handled from here on
        continue;
      }
      if (match) {
        layer = l;
        break;
      }
    }
    if (!layer || !match) {
      idx = stack.length;
      return done(layerError);
    }
    if (layer.route) req.route = layer.route;
    const params = match.params;
    req.params = router.mergeParams ? mergeParams(params, parentParams) : params;
    const found = layer;
    const layerPath = match.path;
    const run = (): void => {
      if (!found.route) return enter(found, layerError, layerPath, path);
      // req.next is how helpers (res.format()) pass an error on from inside a route. The route's
      // own handlers each get a next that runs once (route.ts), so this one needs no guard.
      req.next = next;
      invoke(found.handle, req, res, next);
    };
    // Param callbacks, if any are registered for a name in this match.
    let keys: string[] | undefined;
    for (const _ in router.params) {
      for (const _k in params) {
        keys = Object.keys(params);
        break;
      }
      break;
    }
    if (!keys) {
      run();
    } else {
      runParamCallbacks(
        router.params,
        keys,
        (memo ??= Object.create(null) as ParamMemo),
        req as { params: Record<string, any> },
        res,
        (perr) => {
          if (perr) next(layerError || perr);
          else run();
        },
      );
    }
    sync = 0;
  };

  /** Runs a use() layer with its matched prefix moved from req.url to req.baseUrl. */
  const enter = (layer: Layer, layerError: unknown, layerPath: string, path: string): void => {
    if (skipped && !layerError) noteMethods(idx - 1);
    if (layerPath.length !== 0) {
      const c = path.charCodeAt(layerPath.length);
      if (!path.startsWith(layerPath) || (!Number.isNaN(c) && c !== 47)) return next(layerError);
      removed = layerPath;
      req.url = protohost + req.url.slice(protohost.length + removed.length);
      if (!protohost && req.url.charCodeAt(0) !== 47) {
        req.url = '/' + req.url;
        slashAdded = true;
      }
      req.baseUrl = parentUrl + (removed.endsWith('/') ? removed.slice(0, -1) : removed);
    }
    const step = once(next, layer.name, req, res);
    req.next = step;
    if (layerError) invokeError(layer.handle, layerError, req, res, step);
    else invoke(layer.handle, req, res, step);
  };

  req.next = next;
  req.baseUrl = parentUrl;
  if (!req.originalUrl) req.originalUrl = req.url;
  next();
}

/** Does `url` have a path to match (Express's router: parseurl finds a pathname)? */
function hasPath(url: unknown): url is string {
  return typeof url === 'string' && url.length !== 0 && url.charCodeAt(0) !== 63;
}

/** The path of `url` without query or fragment, after an absolute URL's scheme and host. */
function pathnameOf(url: string, skip: number): string {
  let end = url.indexOf('?', skip);
  if (end < 0) end = url.length;
  const hash = url.indexOf('#', skip);
  if (hash >= 0 && hash < end) end = hash;
  return skip === 0 && end === url.length ? url : url.slice(skip, end);
}

/** 'http://host' of an absolute-form URL ('' for a path), kept in front of req.url when mounting. */
function protohostOf(url: string): string {
  if (url.length === 0 || url.charCodeAt(0) === 47) return '';
  const q = url.indexOf('?');
  const scheme = url.slice(0, q < 0 ? url.length : q).indexOf('://');
  if (scheme < 0) return '';
  const slash = url.indexOf('/', scheme + 3);
  return slash < 0 ? url : url.slice(0, slash);
}

/** The end of a router used on its own (no next): OPTIONS/405, then 404 or the error. */
function finish(req: RoutingRequest, res: unknown, err: unknown): void {
  endOfChain(req, res as never, err, { env: process.env.NODE_ENV || 'development' });
}
