// What happens when a chain ends and nothing answered: OPTIONS and 405 for what routers noted, then
// the app's "not found" or "error" hook when it has one, else the one error renderer.
import { answerError, logError, type AnswerableRequest, type AnswerableResponse } from '../http/error-answer.js';
import { errorStatus } from '../errors.js';
import { answerOptions, methodNotAllowed } from './allowed.js';

/** `app.notFound(fn)`: answers a request no middleware or route answered. */
export type NotFoundHook<Req = any, Res = any> = (req: Req, res: Res) => unknown;
/** `app.onError(fn)`: answers an error no error middleware handled (logged already; its 4xx `headers` set). */
export type ErrorHook<Req = any, Res = any> = (err: unknown, req: Req, res: Res) => unknown;

export interface ChainEnd {
  /** The app's `env` setting: 'production' hides the details of 5xx errors. */
  env: string;
  notFound?: NotFoundHook | undefined;
  onError?: ErrorHook | undefined;
}

/** The default answer: Express's finalhandler formats (HTML unless the client asks otherwise). */
function render(req: AnswerableRequest, res: AnswerableResponse, err: unknown, env: string): void {
  answerError(req, res, err, { env, fallback: 'html' });
}

/** Runs a hook; its throw or rejection is answered by the default renderer. */
function runHook(hook: () => unknown, req: AnswerableRequest, res: AnswerableResponse, env: string): void {
  const fail = (e: unknown) => render(req, res, e ?? new Error('the error hook failed without a reason'), env);
  try {
    const r = hook() as PromiseLike<unknown> | undefined;
    if (r && typeof r.then === 'function') r.then(undefined, fail);
  } catch (e) {
    fail(e);
  }
}

/** The end of a top-level chain (an app's, or a router's used on its own). */
export function endOfChain(req: AnswerableRequest, res: AnswerableResponse, err: unknown, end: ChainEnd): void {
  if (err === undefined || err === null) {
    if (answerOptions(req, res)) return;
    err = methodNotAllowed(req);
  }
  if (err === undefined || err === null) {
    if (res.headersSent || res.writableEnded) return;
    if (end.notFound) return runHook(() => end.notFound!(req, res), req, res, end.env);
    return render(req, res, undefined, end.env);
  }
  if (end.onError) {
    logError(req, res, err);
    if (res.writableEnded || res.destroyed) return;
    // The error's own headers (405 Allow, 416 Content-Range...) are set for the hook's answer.
    const headers = (err as { headers?: unknown }).headers;
    if (errorStatus(err) < 500 && headers && typeof headers === 'object' && !res.headersSent) {
      for (const [k, v] of Object.entries(headers))
        if (typeof v === 'string' || typeof v === 'number') res.setHeader(k, v);
    }
    const failed = err;
    return runHook(() => end.onError!(failed, req, res), req, res, end.env);
  }
  render(req, res, err, end.env);
}
