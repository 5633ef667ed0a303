// The response an app's middleware writes: the core response plus Express 5's helpers (set, type,
// cookie, redirect, send, json, format...), with Express's wire output. No #private fields: a
// response of the plain core class gets this prototype in place (see upgrade() in application.ts).
import { STATUS_CODES } from 'node:http';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import lazy from '../semantics/lazy.cjs';
import { FcgiResponse, handlerFailed, type FcgiRequest, type HeaderValue, type Transport } from '../http/index.js';
import { httpError } from '../errors.js';
import type { AppContext } from './contracts.js';
import { contentDisposition } from '../semantics/index.js';
import { firstSecret, serializeCookie, type CookieOptions } from './set-cookie.js';
import type { NextFunction } from './contracts.js';
import { jsonpCallback, jsonpScript, stringifyJson } from './json-body.js';
import { renderResponse } from './render.js';
import type { RenderCallback } from './view.js';
import { download, sendFile, type SendFileCallback, type SendOptions } from '../send/index.js';
import {
  acceptsTypes,
  appendVary,
  compileEtag,
  encodeUrl,
  escapeHtml,
  isFresh,
  setCharset,
  type EtagFunction,
} from '../semantics/index.js';

/**
 * What a response reads of its request (an AppRequest is one): named here so that the response
 * does not import the request, which names the response.
 */
export interface ResponseRequest extends FcgiRequest {
  readonly fresh: boolean;
  readonly secret: string | undefined;
  next?: NextFunction;
}

export type FormatHandler = (req: ResponseRequest, res: AppResponse, next: NextFunction) => void;

export class AppResponse extends FcgiResponse {
  /** Values for this request only (templates, later middleware). */
  locals: Record<string, any> = Object.create(null);
  /** The app handling the request now. */
  app!: AppContext;
  declare readonly req: ResponseRequest;

  constructor(exchange: Transport, req: FcgiRequest) {
    super(exchange, req);
  }

  // -- Headers --

  /**
   * Sets a header (arrays give repeated lines) or, given an object, several. A Content-Type goes
   * through mime-types' contentType(): 'json' or 'text/html' gain their charset.
   */
  set(field: string, value: HeaderValue | boolean): this;
  set(fields: Record<string, HeaderValue | boolean>): this;
  set(field: string | Record<string, HeaderValue | boolean>, value?: HeaderValue | boolean): this {
    if (typeof field === 'object') {
      for (const key of Object.keys(field)) this.set(key, field[key]!);
      return this;
    }
    let v: string | string[] = Array.isArray(value) ? value.map(String) : String(value);
    if (field.toLowerCase() === 'content-type') {
      if (Array.isArray(v)) throw new TypeError('Content-Type cannot be set to an Array');
      v = lazy.mimeTypes().contentType(v) || v;
    }
    this.setHeader(field, v);
    return this;
  }

  /** Alias of set(). */
  header(field: string, value: HeaderValue | boolean): this;
  header(fields: Record<string, HeaderValue | boolean>): this;
  header(field: any, value?: any): this {
    return typeof field === 'object' ? this.set(field) : this.set(field, value);
  }

  get(field: string): string | string[] | undefined {
    return this.getHeader(field);
  }

  /** Adds to a header, keeping what it had (as repeated lines). */
  append(field: string, value: HeaderValue): this {
    const prev = this.get(field);
    return this.set(field, prev ? ([] as string[]).concat(prev, value as string | string[]).map(String) : value);
  }

  /** Content-Type from an extension or name ('json', '.html') or a full type ('text/plain'). */
  type(type: string): this {
    return this.set(
      'Content-Type',
      type.includes('/') ? type : lazy.mimeTypes().contentType(type) || 'application/octet-stream',
    );
  }

  /** Alias of type(). */
  contentType(type: string): this {
    return this.type(type);
  }

  /** Adds field names to Vary, once each, case kept ('*' swallows everything), as Express does. */
  vary(field: string | readonly string[]): this {
    const value = appendVary(this.get('Vary'), field);
    return value ? this.set('Vary', value) : this;
  }

  /** Link: `<url>; rel="name"` for each, added to any Link already set. */
  links(links: Record<string, string | readonly string[]>): this {
    const prev = this.get('Link');
    const head = Array.isArray(prev) ? prev.join(', ') : (prev ?? '');
    const added = Object.keys(links)
      .map((rel) =>
        ([] as string[])
          .concat(links[rel]!)
          .map((url) => `<${url}>; rel="${rel}"`)
          .join(', '),
      )
      .join(', ');
    return this.set('Link', head ? `${head}, ${added}` : added);
  }

  /**
   * Location, percent-encoded as the encodeurl package does (an existing %XX is kept, so nothing
   * is encoded twice). Any target goes out as given, `//host` included, as in Express; only a
   * raw CR or LF is refused (Express would encode them: here they are an error, 500).
   */
  location(url: string): this {
    return this.set('Location', encodeUrl(String(url)));
  }

  /**
   * Redirects with `status` (default 302): Location, and a short note in text or HTML as the
   * client's Accept prefers (empty when it wants neither); a HEAD gets no body.
   */
  redirect(url: string): void;
  redirect(status: number, url: string): void;
  redirect(a: string | number, b?: string): void {
    const status = b === undefined ? 302 : Number(a);
    const address = this.location(String(b === undefined ? a : b)).get('Location') as string;
    const message = STATUS_CODES[status] ?? String(status);
    let body = '';
    this.format({
      text: () => {
        body = `${message}. Redirecting to ${address}`;
      },
      html: () => {
        const u = escapeHtml(address);
        body = `<!DOCTYPE html><head><title>${message}</title></head><body><p>${message}. Redirecting to ${u}</p></body>`;
      },
      default: () => {
        body = '';
      },
    });
    this.status(status);
    this.set('Content-Length', Buffer.byteLength(body));
    if (this.req.method === 'HEAD') this.end();
    else this.end(body);
  }

  /** Content-Disposition: attachment (with the file's base name, and its type as Content-Type). */
  attachment(filename?: string): this {
    const name = filename === undefined ? undefined : basename(filename);
    if (name) this.type(extname(name));
    return this.set('Content-Disposition', contentDisposition(name));
  }

  // -- Cookies --

  /**
   * Adds a Set-Cookie line. An object value is stored as "j:" + JSON; `signed` signs with
   * cookie-parser's secret or else the app's 'cookie secret' (the first if a list); `maxAge` is in
   * milliseconds and also sets Expires; Path defaults to '/'.
   */
  cookie(name: string, value: unknown, options: CookieOptions = {}): this {
    let secret: string | undefined;
    // req.secret is cookie-parser's secret when it ran, else the first 'cookie secret' (request.ts).
    if (options.signed)
      secret = firstSecret((this.req as { secret?: unknown }).secret) ?? firstSecret(setting(this, 'cookie secret'));
    return this.appendHeader('Set-Cookie', serializeCookie(name, value, options, secret));
  }

  /** Expires cookie `name` (same path and domain options as when it was set). */
  clearCookie(name: string, options: CookieOptions = {}): this {
    const { maxAge: _ignored, ...rest } = options;
    return this.cookie(name, '', { path: '/', ...rest, expires: new Date(1) });
  }

  // -- Bodies --

  /** The status, and its text as a text/plain body. */
  sendStatus(code: number): this {
    this.status(code);
    return this.type('txt').send(STATUS_CODES[code] ?? String(code));
  }

  /** JSON with the app's 'json replacer', 'json spaces' and 'json escape' (<, >, & as \u00XX). */
  json(obj: unknown): this {
    const body = stringifyJson(
      obj,
      setting(this, 'json replacer'),
      setting(this, 'json spaces'),
      setting(this, 'json escape'),
    );
    if (!this.get('Content-Type')) this.set('Content-Type', 'application/json');
    return this.send(body);
  }

  /**
   * JSON, or with a callback named in the query (setting 'jsonp callback name', default
   * 'callback') a text/javascript call of it, as Express writes it (json-body.ts); both with
   * X-Content-Type-Options: nosniff. The JSON settings apply as for json().
   */
  jsonp(obj: unknown): this {
    let body = stringifyJson(
      obj,
      setting(this, 'json replacer'),
      setting(this, 'json spaces'),
      setting(this, 'json escape'),
    );
    const query = (this.req as { query?: Record<string, unknown> }).query;
    const callback = jsonpCallback(query?.[setting(this, 'jsonp callback name') ?? 'callback']);
    if (!this.get('Content-Type')) {
      this.set('X-Content-Type-Options', 'nosniff');
      this.set('Content-Type', 'application/json');
    }
    if (callback !== null) {
      this.set('X-Content-Type-Options', 'nosniff');
      this.set('Content-Type', 'text/javascript');
      body = jsonpScript(callback, body);
    }
    return this.send(body);
  }

  /**
   * Sends a whole response. A string is HTML unless a Content-Type was set (which gains
   * charset=utf-8); bytes are application/octet-stream unless set; null is an empty body; other
   * values go to json(); a Readable is piped with backpressure. Sets Content-Length and (app
   * setting 'etag', weak by default) an ETag, then answers 304 when the request is fresh.
   */
  send(body?: unknown): this {
    let chunk: string | Buffer | undefined;
    if (typeof body === 'string') {
      const type = this.get('Content-Type');
      if (typeof type === 'string') this.set('Content-Type', setCharset(type, 'utf-8'));
      else this.type('html');
      chunk = body;
    } else if (body === null) {
      chunk = '';
    } else if (ArrayBuffer.isView(body)) {
      if (!this.get('Content-Type')) this.type('bin');
      chunk = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    } else if (isStream(body)) {
      sendStream(this, body instanceof Readable ? body : Readable.fromWeb(body as any));
      return this;
    } else if (
      body !== undefined &&
      (typeof body === 'object' || typeof body === 'number' || typeof body === 'boolean')
    ) {
      return this.json(body);
    } else if (body !== undefined) {
      chunk = String(body);
    }
    const etagFn = this.get('ETag') ? undefined : etagFunction(this);
    if (chunk !== undefined) {
      if (etagFn && typeof chunk === 'string') chunk = Buffer.from(chunk);
      this.set('Content-Length', typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
      const tag = etagFn?.(chunk as Buffer);
      if (tag) this.set('ETag', tag);
    }
    if (isFreshResponse(this)) this.statusCode = 304;
    if (this.statusCode === 204 || this.statusCode === 304) {
      for (const h of ['Content-Type', 'Content-Length', 'Transfer-Encoding']) this.removeHeader(h);
      chunk = undefined;
    } else if (this.statusCode === 205) {
      this.set('Content-Length', '0');
      this.removeHeader('Transfer-Encoding');
      chunk = undefined;
    }
    if (this.req.method === 'HEAD' || chunk === undefined) this.end();
    else this.end(chunk);
    return this;
  }

  /**
   * Calls the handler for the type the client prefers (keys are types or extensions; Vary:
   * Accept; Content-Type set), else `default`, else a 406 error to next(). Without the router's
   * req.next the 406 error is thrown, which the app chain passes on the same way.
   */
  format(handlers: Record<string, FormatHandler>): this {
    const req = this.req;
    const given = (req as { next?: NextFunction }).next;
    const next: NextFunction =
      typeof given === 'function'
        ? given
        : (err) => {
            if (err !== undefined) throw err;
          };
    const keys = Object.keys(handlers).filter((k) => k !== 'default');
    const accepts = (req as { accepts?: (types: string[]) => string | string[] | false }).accepts;
    const picked =
      keys.length === 0
        ? false
        : typeof accepts === 'function'
          ? accepts.call(req, keys)
          : acceptsTypes(req.headers.accept, [keys]);
    const key = typeof picked === 'string' ? picked : false;
    this.vary('Accept');
    if (key) {
      this.set('Content-Type', normalizeType(key));
      handlers[key]!(req, this, next);
    } else if (handlers.default) {
      handlers.default(req, this, next);
    } else {
      // Express's error: name NotAcceptableError, the offered `types`.
      const err = httpError(406, 'Not Acceptable', { code: 'ERR_FCGI_NOT_ACCEPTABLE', name: 'NotAcceptableError' });
      next(Object.assign(err, { types: keys.map(normalizeType) }));
    }
    return this;
  }

  /**
   * Renders `view` (app.render() with res.locals) and sends it as HTML; with a callback, hands it
   * the error or the HTML instead. Without one, an error goes to next().
   */
  render(view: string, callback?: RenderCallback): void;
  render(view: string, locals?: Record<string, any>, callback?: RenderCallback): void;
  render(view: string, locals?: Record<string, any> | RenderCallback, callback?: RenderCallback): void {
    renderResponse(this, view, locals, callback);
  }

  /** Sends a file (Express 5's res.sendFile): conditional GET, ranges, HEAD; errors to the callback or next(). */
  sendFile(path: string, options?: SendOptions | SendFileCallback, cb?: SendFileCallback): void {
    sendFile(this, path, options, cb);
  }

  /** Sends a file as an attachment (Content-Disposition with its name or `filename`). */
  download(
    path: string,
    filename?: string | SendOptions | SendFileCallback | null,
    options?: SendOptions | SendFileCallback | null,
    cb?: SendFileCallback,
  ): void {
    download(this, path, filename, options, cb);
  }
}

// -- Helpers --

// Module functions, not #private methods: an upgraded core response has no private brand.

/** A setting of the app, else of the apps it is mounted in (as Express's mounted apps inherit). */
function setting(res: AppResponse, name: string): any {
  for (let app: AppContext | undefined = res.app; app; app = app.parent) {
    if (app.settings && name in app.settings) return app.settings[name];
  }
  return undefined;
}

/** 'etag fn' when set (as Express compiles it), else the 'etag' setting compiled. */
function etagFunction(res: AppResponse): EtagFunction | undefined {
  const fn = setting(res, 'etag fn');
  return typeof fn === 'function' ? fn : compileEtag(setting(res, 'etag'));
}

/** Express's req.fresh: a GET or HEAD whose validators match this 2xx (or 304) response. */
function isFreshResponse(res: AppResponse): boolean {
  const given = (res.req as { fresh?: unknown }).fresh;
  if (typeof given === 'boolean') return given;
  const { method, headers } = res.req;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const s = res.statusCode;
  if ((s < 200 || s >= 300) && s !== 304) return false;
  const etag = res.get('ETag');
  const lastModified = res.get('Last-Modified');
  return isFresh(headers, {
    etag: typeof etag === 'string' ? etag : undefined,
    'last-modified': typeof lastModified === 'string' ? lastModified : undefined,
  });
}

/** Pipes `src` into the response, pausing it while the connection is full. */
function sendStream(res: AppResponse, src: Readable): void {
  if (!res.get('Content-Type')) res.type('bin');
  if (isFreshResponse(res)) res.statusCode = 304;
  const noBody = res.statusCode === 204 || res.statusCode === 304;
  if (noBody || res.req.method === 'HEAD') {
    if (noBody) res.removeHeader('Content-Type');
    src.destroy();
    res.end();
    return;
  }
  const onData = (chunk: string | Uint8Array): void => {
    if (!res.write(chunk)) src.pause();
  };
  const onDrain = (): void => {
    src.resume();
  };
  const onClose = (): void => {
    // The client went away (or the response ended early): stop reading.
    if (!src.readableEnded) src.destroy();
  };
  const cleanup = (): void => {
    src.off('data', onData);
    res.off('drain', onDrain);
    res.off('close', onClose);
  };
  src.on('data', onData);
  res.on('drain', onDrain);
  res.once('close', onClose);
  src.once('end', () => {
    cleanup();
    res.end();
  });
  src.once('error', (err) => {
    cleanup();
    if (res.writableEnded || res.destroyed) return;
    const next = (res.req as { next?: NextFunction }).next;
    if (typeof next === 'function') next(err);
    else handlerFailed(err, res.req, res);
  });
}

function isStream(body: unknown): body is Readable | ReadableStream {
  if (body instanceof Readable) return true;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return true;
  return false;
}

/** A format() key as a media type: 'json' -> application/json, 'text/html; q=1' -> text/html. */
function normalizeType(key: string): string {
  if (key.includes('/')) return key.split(';')[0]!.trim();
  return lazy.mimeTypes().lookup(key) || 'application/octet-stream';
}
