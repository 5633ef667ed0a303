// OPTIONS and 405. A router that ends without answering, while some of its routes matched the
// path for other methods, notes those methods on the request and passes it on. Whoever ends the
// whole chain then answers: OPTIONS with 200 and `Allow`, any other method with 405 and `Allow`
// (when the routers that noted them have `methodNotAllowed`). Deferring to the end keeps routers
// composable: a later router or middleware that serves the method still gets the request.
import type { NextFunction } from '@fcgi/core';

const ALLOWED = Symbol.for('@fcgi/router.allowed');

interface Res {
  statusCode: number;
  headersSent?: boolean;
  writableEnded?: boolean;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
}

type Carrier = { [ALLOWED]?: Set<string> };

/** Notes methods the request's path has routes for. */
export function noteAllowed(req: object, methods: readonly string[]): void {
  if (methods.length === 0) return;
  const set = ((req as Carrier)[ALLOWED] ??= new Set<string>());
  for (const m of methods) set.add(m);
}

/** The methods noted so far for this request, sorted (empty when none). */
export function allowedFor(req: object): string[] {
  const set = (req as Carrier)[ALLOWED];
  return set ? [...set].sort() : [];
}

/** Answers OPTIONS (200) or another method (405) with `Allow` when methods were noted; else false. */
export function answerAllowed(req: { method?: string }, res: Res): boolean {
  const methods = allowedFor(req);
  if (methods.length === 0 || res.headersSent || res.writableEnded) return false;
  (req as Carrier)[ALLOWED] = undefined;
  const allow = methods.join(', ');
  const options = req.method === 'OPTIONS';
  const body = options ? allow : 'Method Not Allowed';
  res.statusCode = options ? 200 : 405;
  res.setHeader('Allow', allow);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method === 'HEAD') res.end();
  else res.end(body);
  return true;
}

export interface AllowedMethodsOptions {
  /**
   * Pass a 405 error (status 405, `headers.Allow`) to next() instead of answering, so error
   * middleware formats it. OPTIONS is still answered.
   */
  throw?: boolean;
}

/**
 * Middleware answering OPTIONS and 405 for what earlier routers noted: for hosts whose chain
 * end this package cannot see (an Express app), or before a catch-all 404 handler.
 */
export function allowedMethods(options: AllowedMethodsOptions = {}) {
  return function allowedMethods(req: { method?: string }, res: Res, next: NextFunction): void {
    if (options.throw && req.method !== 'OPTIONS') {
      const methods = allowedFor(req);
      if (methods.length > 0 && !res.headersSent) {
        (req as Carrier)[ALLOWED] = undefined;
        const allow = methods.join(', ');
        next(Object.assign(new Error('Method Not Allowed'), { status: 405, statusCode: 405, expose: true, headers: { Allow: allow } }));
        return;
      }
    }
    if (!answerAllowed(req, res)) next();
  };
}
