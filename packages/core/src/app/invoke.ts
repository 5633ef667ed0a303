// Calling one handler of a stack: a throw, or the rejection of a returned promise, goes to next(err)
// (a promise rejected without a reason becomes an Error, so the rejection is not lost as "no
// error"), and a next() called a second time is reported instead of running the chain twice.
import { requestLine, type LoggedRequest } from '../http/log-line.js';
import type { NextFunction } from './contracts.js';

type Fn = (...args: any[]) => unknown;

/** Synchronous steps in a row before a stack yields to the event loop (no stack overflow). */
export const MAX_SYNC = 100;

function settle(result: unknown, next: NextFunction): void {
  if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
    (result as PromiseLike<unknown>).then(undefined, (e: unknown) => next(e || new Error('Rejected promise')));
  }
}

/** fn(req, res, next) */
export function invoke(fn: Fn, req: unknown, res: unknown, next: NextFunction): void {
  try {
    settle(fn(req, res, next), next);
  } catch (e) {
    next(e);
  }
}

/** fn(err, req, res, next) */
export function invokeError(fn: Fn, err: unknown, req: unknown, res: unknown, next: NextFunction): void {
  try {
    settle(fn(err, req, res, next), next);
  } catch (e) {
    next(e);
  }
}

interface Reporter {
  err?(...text: unknown[]): unknown;
  writableEnded?: boolean;
}

/**
 * `next` for one handler: its first call continues the chain, a second is a bug in that handler,
 * reported on FCGI_STDERR (the web server's error log) with the handler's name, and ignored.
 */
export function once(next: NextFunction, name: string, req: LoggedRequest, res: unknown): NextFunction {
  let called = false;
  return (err?: unknown) => {
    if (!called) {
      called = true;
      next(err);
      return;
    }
    const text = `next() called more than once by ${name}: ignored`;
    const r = res as Reporter;
    if (typeof r.err === 'function' && !r.writableEnded) r.err(text);
    else process.stderr.write(`${requestLine(req, text)}\n`);
  };
}
