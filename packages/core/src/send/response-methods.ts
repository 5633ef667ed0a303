// Express 5's res.sendFile() and res.download() as functions of the response, to be wired onto
// AppResponse: `res.sendFile(path, options, cb)` is `sendFile(res, path, options, cb)`.
import { basename, isAbsolute, resolve } from 'node:path';
import { contentDisposition } from '../semantics/index.js';
import { handlerFailed, type FcgiRequest, type FcgiResponse, type HeaderValue } from '../http/index.js';
import type { FcgiError } from '../errors.js';
import type { SendOptions } from './options.js';
import { sendPath } from './send-file.js';

/** The app setting that turns offload on for res.sendFile(), res.download() and serveStatic(). */
export const OFFLOAD_SETTING = 'sendfile offload';

/** Any response with its request (an AppResponse qualifies); `req.next` and `app.settings` are used when present. */
export type SendFileResponse = FcgiResponse & {
  readonly req: FcgiRequest & { next?: (err?: unknown) => void };
  app?: { settings?: Record<string, unknown> } | undefined;
};

/** Called once: no argument when the file was sent, else the error (code ECONNABORTED if the client left). */
export type SendFileCallback = (err?: Error) => void;

/**
 * Sends the file at `path` (absolute, or relative to `options.root`, in which case `..` cannot
 * leave the root). With a callback, it gets every outcome; without one, errors go to
 * `req.next(err)` (a directory calls `req.next()`, an aborted request is dropped) or, outside an
 * app, become an error response. The ETag follows the app's 'etag' setting unless given, and
 * `offload` the app's 'sendfile offload' setting (docs/sendfile-offload.md).
 */
export function sendFile(
  res: SendFileResponse,
  path: string,
  options?: SendOptions | SendFileCallback,
  cb?: SendFileCallback,
): void {
  if (!path) throw new TypeError('path argument is required to res.sendFile');
  if (typeof path !== 'string') throw new TypeError('path must be a string to res.sendFile');
  let done = cb;
  let opts: SendOptions = {};
  if (typeof options === 'function') done = options;
  else if (options) opts = options;
  if (!opts.root && !isAbsolute(path)) throw new TypeError('path must be absolute or specify root to res.sendFile');
  if (opts.etag === undefined && res.app?.settings?.etag === false) opts = { ...opts, etag: false };
  if (opts.offload === undefined) {
    const offload = res.app?.settings?.[OFFLOAD_SETTING] as SendOptions['offload'];
    if (offload) opts = { ...opts, offload };
  }
  const req = res.req;
  sendPath(req, res, path, opts, (err) => {
    if (done) return done(err ?? undefined);
    if (!err) return;
    const code = (err as FcgiError).code;
    if (code === 'ECONNABORTED') return;
    const next = typeof req.next === 'function' ? req.next : null;
    if (next) return code === 'EISDIR' ? next() : next(err);
    handlerFailed(err, req, res);
  });
}

/**
 * Sends the file as an attachment: Content-Disposition with `filename` (default: the file's base
 * name), then as sendFile(). Takes (path, [filename], [options], [cb]) like Express 5; a
 * Content-Disposition in `options.headers` is overridden.
 */
export function download(
  res: SendFileResponse,
  path: string,
  filename?: string | SendOptions | SendFileCallback | null,
  options?: SendOptions | SendFileCallback | null,
  cb?: SendFileCallback,
): void {
  let done = cb;
  let name: string | null = typeof filename === 'string' ? filename : null;
  let opts: SendOptions | null = typeof options === 'object' ? options : null;
  if (typeof filename === 'function') {
    done = filename;
    opts = null;
  } else if (typeof options === 'function') {
    done = options;
    opts = null;
  }
  if (typeof filename === 'object' && filename !== null && (typeof options === 'function' || options === undefined)) {
    name = null;
    opts = filename;
  }
  const headers: Record<string, HeaderValue> = { 'Content-Disposition': contentDisposition(basename(name || path)) };
  if (opts?.headers) {
    for (const key of Object.keys(opts.headers)) {
      if (key.toLowerCase() !== 'content-disposition') headers[key] = opts.headers[key]!;
    }
  }
  const full = opts?.root ? path : resolve(path);
  sendFile(res, full, { ...opts, headers }, done);
}
