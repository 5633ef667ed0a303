// @fcgi/static: serveStatic(root, options), middleware that serves the files under `root` with
// @fcgi/core's file sender (safe paths, conditional requests, ranges, precompressed variants).
import {
  OFFLOAD_SETTING,
  collapseLeadingSlashes,
  prepareSendOptions,
  sendUrlPath,
  type NormalizedSendOptions,
  type SendOptions,
} from '@fcgi/core/send';
import { encodeUrl, escapeHtml } from '@fcgi/core/semantics';
import type { Stats } from 'node:fs';
import {
  answerError,
  httpError,
  type FcgiError,
  type AppRequest,
  type AppResponse,
  type FcgiRequest,
  type FcgiResponse,
  type NextFunction,
} from '@fcgi/core';

export interface ServeStaticOptions extends Omit<SendOptions, 'root' | 'headers' | 'setHeaders'> {
  /** A directory without a trailing slash: 301 to path + '/' (default true); false falls through. */
  redirect?: boolean;
  /** Not found (404): next() (default true). False: next(err) for 404, and 405 for other methods. */
  fallthrough?: boolean;
  /** Called with the response, the file's path and its stats before default headers are set. */
  setHeaders?: (res: AppResponse, path: string, stat: Stats) => void;
}

type Req = (AppRequest | FcgiRequest) & { originalUrl?: string; app?: { settings?: Record<string, unknown> } };
type Res = AppResponse | FcgiResponse;

function pathnameOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Backslash (browsers read `/\\host` as `//host`), CR and LF: percent-encoded before encodeUrl. */
const NOT_IN_LOCATION = /[\\\r\n]/g;

/**
 * The Location for a directory: the path as the client sent it (before any mount was stripped)
 * plus '/', the query kept. Leading slashes collapse to one and backslashes are encoded, so the
 * target is always a path on this host; other characters a URL cannot hold are percent-encoded
 * by core's encodeUrl (the encodeurl package).
 */
export function directoryLocation(originalUrl: string): string {
  const q = originalUrl.indexOf('?');
  const path = q < 0 ? originalUrl : originalUrl.slice(0, q);
  const query = q < 0 ? '' : originalUrl.slice(q);
  const target = collapseLeadingSlashes(path + '/') + query;
  return encodeUrl(target.replace(NOT_IN_LOCATION, (c) => (c === '\\' ? '%5C' : c === '\r' ? '%0D' : '%0A')));
}

function redirectToDirectory(req: Req, res: Res): void {
  const location = directoryLocation(req.originalUrl ?? req.url);
  const body =
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Redirecting</title></head>` +
    `<body><pre>Redirecting to ${escapeHtml(location)}</pre></body></html>\n`;
  res.statusCode = 301;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Content-Security-Policy', "default-src 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Location', location);
  res.end(body);
}

/** Outside an app (no next): the one error answer (the error's status, or 404), as plain text. */
function fallbackNext(req: Req, res: Res): NextFunction {
  return (err?: unknown) => answerError(req, res, err, { env: 'production', fallback: 'text' });
}

/**
 * Middleware serving files under `root` for GET and HEAD. Not found falls through to the next
 * middleware (unless `fallthrough: false`); other failures (400 bad path, 403 refused, 412, 416,
 * 500) go to next(err) with `status` set. Defaults: index 'index.html', dotfiles 'ignore', weak
 * ETags, Last-Modified, `Cache-Control: public, max-age=0`, ranges, precompressed .br/.gz.
 */
export function serveStatic(root: string, options: ServeStaticOptions = {}) {
  if (!root || typeof root !== 'string') throw new TypeError('serveStatic() needs a root directory');
  const { redirect: redirectOption, fallthrough: fallthroughOption, ...rest } = options;
  const redirect = redirectOption !== false;
  const fallthrough = fallthroughOption !== false;
  const send = prepareSendOptions({ ...rest, root } as SendOptions, { precompressed: true });
  if (options.setHeaders !== undefined && typeof options.setHeaders !== 'function')
    throw new TypeError('setHeaders must be a function');
  // Without an `offload` option of its own, the app's 'sendfile offload' setting applies (read
  // per request: the middleware may be created before app.set()); prepared once per value.
  const withSetting = new WeakMap<object, NormalizedSendOptions>();
  const optionsFor = (req: Req): NormalizedSendOptions => {
    if (options.offload !== undefined) return send;
    const setting = req.app?.settings?.[OFFLOAD_SETTING];
    if (!setting || typeof setting !== 'object') return send;
    let prepared = withSetting.get(setting);
    if (!prepared) {
      prepared = prepareSendOptions({ ...rest, root, offload: setting } as SendOptions, { precompressed: true });
      withSetting.set(setting, prepared);
    }
    return prepared;
  };

  return function serveStatic(req: Req, res: Res, next?: NextFunction): void {
    const go = typeof next === 'function' ? next : fallbackNext(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (fallthrough) return go();
      return go(httpError(405, 'Method Not Allowed', { headers: { Allow: 'GET, HEAD' } }));
    }
    let path = pathnameOf(req.url);
    // Mounted at /static and asked for /static: the url here is '/', but the redirect must
    // add the slash to what the client asked for.
    if (path === '/' && !pathnameOf(req.originalUrl ?? req.url).endsWith('/')) path = '';
    let opts: NormalizedSendOptions;
    try {
      opts = optionsFor(req);
    } catch (err) {
      return go(err);
    }
    sendUrlPath(req, res as FcgiResponse, path, opts, (err) => {
      if (!err) return;
      const e = err as FcgiError;
      if (e.code === 'ECONNABORTED') return;
      if (e.code === 'EISDIR') {
        if (redirect && !path.endsWith('/')) return redirectToDirectory(req, res);
        return fallthrough ? go() : go(err);
      }
      if (e.status === 404 && fallthrough) return go();
      go(err);
    });
  };
}

export default serveStatic;
