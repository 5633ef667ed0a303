// The one conversion between our request/response and the Web's Request/Response, both ways: a
// fetch handler served over FastCGI (http/fetch-handler.ts) and the in-process client (inject())
// build their Headers, bodies and null-body rules here.
import type { FcgiRequest } from './request.js';
import type { FcgiResponse } from './response.js';

/** Statuses whose Response has no body (fetch's null body statuses a Response can carry). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205, 304]);

/** Bytes of body a Web stream holds for a reader that does not read. */
export const WEB_BODY_HIGH_WATER_MARK = 64 * 1024;

/** Headers from name/value pairs, each repeated name (Set-Cookie above all) appended apart; `skip` is a lower-case name left out. */
export function webHeaders(pairs: Iterable<readonly [string, string]>, skip?: string): Headers {
  const headers = new Headers();
  for (const [name, value] of pairs) if (skip === undefined || name.toLowerCase() !== skip) headers.append(name, value);
  return headers;
}

/** A view of `bytes` as a Buffer, copying nothing. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The Web Request for `req`: the URL from the scheme (REQUEST_SCHEME, HTTPS), the Host header (else
 * SERVER_NAME:SERVER_PORT) and the request target the client sent (REQUEST_URI); the headers; the
 * body (for a request that has one) a stream the request's data fills as the handler reads it; the
 * signal aborted when the web server aborts the request.
 */
export function webRequest(req: FcgiRequest): Request {
  const env = req.environ;
  const https = env.REQUEST_SCHEME === 'https' || (env.HTTPS !== undefined && env.HTTPS !== '' && env.HTTPS !== 'off');
  const scheme = https ? 'https://' : 'http://';
  let host = req.headers.host;
  if (!host) {
    const port = env.SERVER_PORT;
    host =
      (env.SERVER_NAME || env.SERVER_ADDR || 'localhost') + (port && port !== (https ? '443' : '80') ? ':' + port : '');
  }
  const method = req.method;
  // GET is Request's default: no init to convert for most requests.
  let init: (RequestInit & { duplex?: 'half' }) | undefined;
  if (method !== 'GET') {
    init = { method };
    if (method !== 'HEAD' && hasBody(req)) {
      init.body = bodyStream(req);
      init.duplex = 'half';
    }
  }
  const request = new (webRequestClass())(scheme + host + req.originalUrl, init, req);
  // Into the Request's own Headers: given in init, each header would be checked and copied twice.
  appendHeaders(request.headers, req);
  return request;
}

type WebRequestClass = new (url: string, init: RequestInit | undefined, req: FcgiRequest) => Request;
let FcgiWebRequest: WebRequestClass | undefined;

/**
 * The class of our Requests, made at the first one: a Request whose `signal` is the request's own
 * (req.signal), made when first read (a signal given to Request's constructor costs about as much
 * as the rest of the Request, measured on Node 20, and most handlers never read it). Not at import:
 * the first touch of the global Request loads Node's fetch implementation (undici), about 5 MB of
 * RSS that a process serving (req, res) handlers never needs.
 */
function webRequestClass(): WebRequestClass {
  if (FcgiWebRequest) return FcgiWebRequest;
  class Made extends Request {
    readonly #req: FcgiRequest;
    constructor(url: string, init: RequestInit | undefined, req: FcgiRequest) {
      super(url, init);
      this.#req = req;
    }
    static {
      // Request declares `signal` a property, so TypeScript allows no accessor over it; at run time
      // it is a getter of Request.prototype, which this one shadows for our requests only.
      Object.defineProperty(Made.prototype, 'signal', {
        get(this: Made): AbortSignal {
          return this.#req.signal;
        },
        configurable: true,
      });
    }
  }
  return (FcgiWebRequest = Made);
}

function appendHeaders(headers: Headers, req: FcgiRequest): void {
  const all = req.headers;
  for (const name of Object.keys(all)) {
    const value = all[name]!;
    // A value the Web's Headers refuses (a control character nginx let through) is left out, not a 500.
    try {
      headers.append(name, value);
    } catch {}
  }
}

function hasBody(req: FcgiRequest): boolean {
  const length = req.environ.CONTENT_LENGTH;
  return length === undefined || (length !== '' && length !== '0');
}

/** The request's body as a Web stream with backpressure: the request pauses while the stream is full. */
function bodyStream(req: FcgiRequest): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => controller.close());
        req.once('error', (err) => controller.error(err));
        req.once('aborted', () => controller.error(req.signal.reason ?? new Error('the request was aborted')));
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        req.removeAllListeners('data');
        req.resume();
      },
    },
    { highWaterMark: WEB_BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  );
}

/**
 * Answers `res` with `response`: its status and reason, its headers (each Set-Cookie its own
 * header), and its body streamed with backpressure (the next chunk is read once `res` drained).
 * Resolves once the answer ended or the client went away (the body is then cancelled). An error
 * from the body before anything was sent rejects (the caller answers it); after, it cuts the answer.
 */
export async function sendWebResponse(req: FcgiRequest, res: FcgiResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  let cookies = false;
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') cookies = true;
    else res.setHeader(name, value);
  }
  if (cookies) res.setHeader('set-cookie', response.headers.getSetCookie());
  const body = response.body;
  if (body === null || req.method === 'HEAD' || NULL_BODY_STATUSES.has(response.status)) {
    if (body !== null) body.cancel().catch(() => {});
    res.end();
    return;
  }
  const whole = bodySource(response, body);
  if (whole !== undefined) {
    res.end(typeof whole === 'string' ? whole : toBuffer(whole));
    return;
  }
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (res.destroyed) {
        reader.cancel().catch(() => {});
        return;
      }
      if (done) break;
      if (!res.write(value) && !(await drained(res))) {
        reader.cancel().catch(() => {});
        return;
      }
    }
  } catch (err) {
    reader.cancel(err).catch(() => {});
    if (!res.headersSent) throw err;
    res.destroy(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  res.end();
}

/** The key of the internal state Node's Responses (undici's) carry; null where there is none. */
let responseState: symbol | null | undefined;

/**
 * The string or bytes `response` was made from (`new Response(text)`, `Response.json()`, a
 * Uint8Array...), when its body stream is untouched: then they are the body, sent whole without
 * reading the stream (a one-chunk body read through a reader costs about as much as making the
 * Response, measured on Node 20). Read from the state undici keeps on each Response, found by its
 * name at the first Response; undefined whenever that state is absent or not of this shape (another
 * fetch implementation, a stream or Blob body, a body already read or locked): the caller then
 * reads the stream. The stream itself is left unread, its source never pulled.
 */
function bodySource(response: Response, body: ReadableStream<Uint8Array>): string | Uint8Array | undefined {
  if (responseState === undefined) {
    const key = Reflect.ownKeys(response).find((k) => typeof k === 'symbol' && k.description === 'state');
    responseState = (key as symbol | undefined) ?? null;
  }
  if (responseState === null || response.bodyUsed || body.locked) return undefined;
  const state = (response as unknown as Record<symbol, { body?: { stream?: unknown; source?: unknown } } | undefined>)[
    responseState
  ];
  const inner = state?.body;
  // The state's stream must be the body we were given: else the shape is not the one known here.
  if (inner?.stream !== body) return undefined;
  const source = inner.source;
  return typeof source === 'string' || source instanceof Uint8Array ? source : undefined;
}

/** Resolves true once `res` drained, false when it closed first (the client went away). */
function drained(res: FcgiResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
