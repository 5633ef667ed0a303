// OPTIONS and 405. A router that ends without answering, while some of its routes matched the
// path for other methods, notes those methods on the request and passes it on. Whoever ends the
// whole chain then answers: OPTIONS with 200 and `Allow`, any other method with a 405 error
// carrying `Allow` (when the routers that noted them have `methodNotAllowed`), which the app's
// error hook or the one error renderer answers. Deferring to the end keeps routers composable: a
// later router or middleware that serves the method still gets the request.
import { httpError, type FcgiError } from '../errors.js';
import { answerError, type AnswerableResponse } from '../http/error-answer.js';
import type { NextFunction } from './contracts.js';

const ALLOWED = Symbol('allowed methods');

type Res = AnswerableResponse;

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

/** Answers OPTIONS with 200 and `Allow` when methods were noted for the request; else false. */
export function answerOptions(req: { method?: string }, res: Res): boolean {
  if (req.method !== 'OPTIONS') return false;
  const methods = allowedFor(req);
  if (methods.length === 0 || res.headersSent || res.writableEnded) return false;
  (req as Carrier)[ALLOWED] = undefined;
  const allow = methods.join(', ');
  // Express's router's answer, header for header.
  res.statusCode = 200;
  res.setHeader('Allow', allow);
  res.setHeader('Content-Length', Buffer.byteLength(allow));
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(allow);
  return true;
}

/**
 * For an OPTIONS request whose methods were noted but whose headers are already out (a middleware
 * flushed them and passed the request on): the error a router passes on instead of an answer, as
 * Express's router does when its `Allow` answer cannot be set; else undefined.
 */
export function unsendableOptions(req: { method?: string }, res: { headersSent?: boolean }): FcgiError | undefined {
  if (req.method !== 'OPTIONS' || !res.headersSent || allowedFor(req).length === 0) return undefined;
  (req as Carrier)[ALLOWED] = undefined;
  return httpError(500, 'Cannot set headers after they are sent to the client', { code: 'ERR_HTTP_HEADERS_SENT' });
}

/** The 405 error (with `Allow`) for a request whose path has routes for other methods only; else undefined. */
export function methodNotAllowed(req: object): FcgiError | undefined {
  const methods = allowedFor(req);
  if (methods.length === 0) return undefined;
  (req as Carrier)[ALLOWED] = undefined;
  return httpError(405, 'Method Not Allowed', {
    headers: { Allow: methods.join(', ') },
    code: 'ERR_FCGI_METHOD_NOT_ALLOWED',
  });
}

export interface AllowedMethodsOptions {
  /**
   * Pass the 405 error (status 405, `headers.Allow`) to next() instead of answering, so error
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
    if (answerOptions(req, res)) return;
    const unsent = unsendableOptions(req, res);
    if (unsent) return next(unsent);
    const err = res.headersSent ? undefined : methodNotAllowed(req);
    if (!err) return next();
    if (options.throw) return next(err);
    answerError(req, res, err, { fallback: 'text' });
  };
}
