// Calling a handler: a throw, or the rejection of a returned promise, goes to next(err) (a promise
// rejected without a reason becomes an Error, so the rejection is not lost as "no error").
import type { NextFunction } from '@fcgi/core';

type Fn = (...args: any[]) => unknown;

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
