// router.param() callbacks, and mergeParams. Express's rules: the callbacks for a name run before
// the first layer that has that param, once per value within one pass through the router (a
// later layer with the same value reuses the outcome, an error included, except next('route')).
import type { ParamCallback } from './route-types.js';
import type { NextFunction } from './contracts.js';

/** What one param's callbacks did during this pass, keyed by param name. */
export type ParamMemo = Record<string, { value: unknown; match: unknown; error: unknown }>;

interface ParamsRequest {
  params: Record<string, any>;
}

/** Runs the callbacks for each of `keys` that has some, in order, then `done(err?)`. */
export function runParamCallbacks(
  callbacks: Record<string, ParamCallback[]>,
  keys: readonly string[],
  memo: ParamMemo,
  req: ParamsRequest,
  res: unknown,
  done: NextFunction,
): void {
  let k = 0;
  const nextParam = (err?: unknown): void => {
    if (err) return done(err);
    if (k >= keys.length) return done();
    const name = keys[k++]!;
    const value = req.params[name];
    const fns = callbacks[name];
    if (value === undefined || !fns || fns.length === 0) return nextParam();
    const seen = memo[name];
    if (seen && (seen.match === value || (seen.error && seen.error !== 'route'))) {
      req.params[name] = seen.value;
      return nextParam(seen.error);
    }
    const entry = (memo[name] = { value, match: value, error: undefined as unknown });
    let f = 0;
    const nextCallback = (cbErr?: unknown): void => {
      entry.value = req.params[name];
      if (cbErr) {
        entry.error = cbErr;
        return nextParam(cbErr);
      }
      const fn = fns[f++];
      if (!fn) return nextParam();
      try {
        const r = fn(req as never, res as never, nextCallback, value, name) as PromiseLike<unknown> | undefined;
        if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
          r.then(undefined, (e: unknown) => nextCallback(e || new Error('Rejected promise')));
        }
      } catch (e) {
        nextCallback(e);
      }
    };
    nextCallback();
  };
  nextParam();
}

/**
 * The parent's params with the layer's on top. Numbered params (from RegExp paths) of the child
 * are shifted past the parent's numbers so neither loses any, as Express does.
 */
export function mergeParams(params: Record<string, any>, parent: unknown): Record<string, any> {
  if (typeof parent !== 'object' || parent === null) return params;
  const merged: Record<string, any> = { ...(parent as Record<string, any>) };
  if (!('0' in params) || !('0' in (parent as object))) return Object.assign(merged, params);
  let parentCount = 0;
  while (String(parentCount) in (parent as object)) parentCount++;
  const shifted: Record<string, any> = {};
  for (const key of Object.keys(params)) {
    const n = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
    shifted[Number.isNaN(n) ? key : String(n + parentCount)] = params[key];
  }
  return Object.assign(merged, shifted);
}
