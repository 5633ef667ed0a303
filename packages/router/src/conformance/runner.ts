// Runs the conformance cases against any router with Express's API (Router(options), get/post/...,
// route, use, param; a router is a function (req, res, next)), in process, with minimal fake
// req/res objects. A factory says how to make and run its routers.
import type { Case, HandlerSpec, ParamSpec, PathSpec, Step } from './cases.js';

export interface RouterFactory {
  readonly name: string;
  /** Implements @fcgi/router's additions to Express's semantics (405 with Allow). */
  readonly extensions: boolean;
  create(options?: { caseSensitive?: boolean; strict?: boolean; mergeParams?: boolean }): AnyRouter;
  /** Runs one request through a top-level router; `final` gets whatever falls out of it. */
  run(router: AnyRouter, req: FakeRequest, res: FakeResponse, final: (err?: unknown) => void): void;
}

export type AnyRouter = ((req: any, res: any, next: (err?: unknown) => void) => void) & Record<string, any>;

export interface FakeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  params?: Record<string, unknown>;
  baseUrl?: string;
  originalUrl?: string;
  trace: string[];
  [key: string]: unknown;
}

export class FakeResponse {
  statusCode = 200;
  headers: Record<string, string> = {};
  body = '';
  headersSent = false;
  writableEnded = false;
  #onEnd: () => void;
  constructor(onEnd: () => void) {
    this.#onEnd = onEnd;
  }

  setHeader(name: string, value: string | number): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  end(body?: string): this {
    if (this.writableEnded) throw new Error('response ended twice');
    this.body = body ?? '';
    this.headersSent = this.writableEnded = true;
    this.#onEnd();
    return this;
  }
}

/** What one request produced: the response, with the JSON a responding handler wrote, parsed. */
export interface Outcome {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: Record<string, unknown> | undefined;
}

function toPath(p: PathSpec): unknown {
  return Array.isArray(p) ? p.map(toPath) : p;
}

function handler(spec: HandlerSpec, factory: RouterFactory): unknown {
  if (typeof spec === 'string') spec = { h: spec };
  if (spec.router) return build(factory, spec.router.options, spec.router.steps);
  const s = spec;
  const label = s.h ?? '?';
  const respond = (req: FakeRequest, res: FakeResponse, extra: Record<string, unknown> = {}) => {
    req.trace.push(label);
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        h: label,
        params: { ...req.params },
        url: req.url,
        baseUrl: req.baseUrl,
        originalUrl: req.originalUrl,
        trace: req.trace,
        ...extra,
      }),
    );
  };
  const fail = (message: string) => Object.assign(new Error(message), { status: s.status ?? 500 });
  if (s.error) {
    return (
      err: { message: string; status?: number },
      req: FakeRequest,
      res: FakeResponse,
      next: (e?: unknown) => void,
    ) => {
      if (s.error === 'next') {
        req.trace.push(label);
        return next(err);
      }
      if (s.error === 'recover') {
        req.trace.push(label);
        return next();
      }
      res.statusCode = err.status ?? 500;
      respond(req, res, { error: err.message });
    };
  }
  return async (req: FakeRequest, res: FakeResponse, next: (e?: unknown) => void) => {
    if (s.async) await new Promise((r) => setImmediate(r));
    if (s.rewrite !== undefined) {
      req.trace.push(label);
      req.url = s.rewrite;
      return next();
    }
    if (s.fail === 'throw') throw fail(`${label} threw`);
    if (s.fail === 'reject') return Promise.reject(fail(`${label} rejected`));
    if (s.fail === 'next') return next(fail(`${label} failed`));
    if (s.next !== undefined) {
      req.trace.push(label);
      return s.next === true ? next() : next(s.next);
    }
    respond(req, res);
  };
}

function param(spec: ParamSpec) {
  return (req: FakeRequest, _res: FakeResponse, next: (e?: unknown) => void, value: unknown, name: string) => {
    req.trace.push(`param:${name}=${String(value)}`);
    if (spec.do === 'upper') {
      req.params![name] = String(value).toUpperCase();
      return next();
    }
    if (spec.do === 'route') return next('route');
    if (spec.do === 'error') return next(Object.assign(new Error(`bad ${name}`), { status: 403 }));
    next();
  };
}

function build(factory: RouterFactory, options: Case['options'], steps: readonly Step[]): AnyRouter {
  const router = factory.create(options);
  for (const step of steps) {
    if ('verb' in step) {
      router[step.verb]!(toPath(step.path), ...step.handlers.map((h) => handler(h, factory)));
    } else if ('route' in step) {
      const route = router.route(toPath(step.route));
      for (const [verb, hs] of step.methods) route[verb](...hs.map((h) => handler(h, factory)));
    } else if ('param' in step) {
      router.param(step.param, param(step));
    } else {
      const hs = step.handlers.map((h) => handler(h, factory));
      if (step.use === undefined) router.use(...hs);
      else router.use(toPath(step.use), ...hs);
    }
  }
  return router;
}

/** One request through a fresh router; resolves when the response ends or the request falls out. */
export function request(
  factory: RouterFactory,
  router: AnyRouter,
  method: string,
  url: string,
  ms = 2000,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req: FakeRequest = { method, url, headers: {}, trace: [] };
    const timer = setTimeout(() => reject(new Error(`${method} ${url}: no response within ${ms} ms`)), ms);
    const settle = () => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json =
          res.headers['content-type'] === 'application/json'
            ? (JSON.parse(res.body) as Record<string, unknown>)
            : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode, headers: res.headers, body: res.body, json });
    };
    const res = new FakeResponse(settle);
    const final = (err?: unknown) => {
      const e = err as { status?: number; message?: string } | undefined;
      res.statusCode = err ? (e?.status ?? 500) : 404;
      res.setHeader('Content-Type', 'text/plain');
      res.end(err ? `error: ${e?.message}` : 'not found');
    };
    try {
      factory.run(router, req, res, final);
    } catch (e) {
      clearTimeout(timer);
      reject(e);
    }
  });
}

/** Every difference between what the case expects and what `factory`'s router did (empty: passed). */
export async function runCase(factory: RouterFactory, c: Case): Promise<string[]> {
  const router = build(factory, c.options, c.steps);
  const problems: string[] = [];
  for (const r of c.requests) {
    const method = r.method ?? 'GET';
    const where = `${method} ${r.url}`;
    const o = await request(factory, router, method, r.url);
    const e = r.expect;
    const check = (what: string, actual: unknown, expected: unknown) => {
      if (expected !== undefined && JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(`${where}: ${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
      }
    };
    check('status', o.status, e.status ?? (e.h ? 200 : undefined));
    check('handler', o.json?.h, e.h);
    check('params', o.json?.params, e.params);
    check('url', o.json?.url, e.url);
    check('baseUrl', o.json?.baseUrl, e.baseUrl);
    check('originalUrl', o.json?.originalUrl, e.originalUrl);
    check('trace', o.json?.trace, e.trace);
    check('error', o.json?.error, e.error);
    check('Allow', o.headers.allow, e.allow);
    check('body', o.body, e.body);
  }
  return problems;
}

/** Runs the cases an implementation should pass (those using extensions only when it has them). */
export async function runConformance(factory: RouterFactory, cases: readonly Case[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const c of cases) {
    if (c.extension && !factory.extensions) continue;
    out.set(c.name, await runCase(factory, c));
  }
  return out;
}
