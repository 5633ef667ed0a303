// The one error type of @fcgi/core, FcgiError, and the catalogue of its codes.
import { STATUS_CODES } from 'node:http';

export const ErrorCode = {
  /** The web server sent ABORT_REQUEST. */
  ABORTED: 'ERR_FCGI_ABORTED',
  /** The connection to the web server closed before the response ended. */
  CONNECTION_LOST: 'ERR_FCGI_CONNECTION_LOST',
  /** A header was changed after the header block was sent. */
  HEADERS_SENT: 'ERR_FCGI_HEADERS_SENT',
  /** A header name or value that cannot be sent (CR, LF, NUL, non-latin1, bad token). */
  INVALID_HEADER: 'ERR_FCGI_INVALID_HEADER',
  /** A status code outside 100-999. */
  INVALID_STATUS: 'ERR_FCGI_INVALID_STATUS',
  /** A buffered body exceeded its limit. */
  BODY_TOO_LARGE: 'ERR_FCGI_BODY_TOO_LARGE',
  /** A body could not be parsed (json()). */
  BODY_INVALID: 'ERR_FCGI_BODY_INVALID',
  /** write() after end(). */
  WRITE_AFTER_END: 'ERR_FCGI_WRITE_AFTER_END',
  /** FastCGI bytes that break the spec (the connection is closed). */
  MALFORMED: 'ERR_FCGI_MALFORMED',
  /** Well-formed FastCGI bytes past a configured limit (PARAMS too large, too many pairs). */
  LIMIT: 'ERR_FCGI_LIMIT',
  /** A listen target that cannot be understood. */
  INVALID_LISTEN_TARGET: 'ERR_FCGI_INVALID_LISTEN_TARGET',
  /** requestTimeout expired (req.signal.reason; status 503). */
  REQUEST_TIMEOUT: 'ERR_FCGI_REQUEST_TIMEOUT',
  /** bodyTimeout expired: the request's input stalled. */
  BODY_TIMEOUT: 'ERR_FCGI_BODY_TIMEOUT',
  /** paramsTimeout expired: a request's PARAMS, or a record, did not complete in time. */
  PARAMS_TIMEOUT: 'ERR_FCGI_PARAMS_TIMEOUT',
  /** The app's fcgi.env was refused (readable by others, another owner) or could not be read. */
  ENV_FILE: 'ERR_FCGI_ENV_FILE',
  /** What node:http can do and FastCGI cannot carry (a 101 Switching Protocols answer), or a response piped from. */
  UNSUPPORTED: 'ERR_FCGI_UNSUPPORTED',
  /** With res.strictContentLength, a body longer or shorter than its Content-Length. */
  CONTENT_LENGTH_MISMATCH: 'ERR_FCGI_CONTENT_LENGTH_MISMATCH',
} as const;
export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FcgiErrorOptions {
  /** The HTTP status to answer with (default 500: the error is the server's). */
  status?: number;
  /** Whether the message may be shown to the client (default: for 4xx only). */
  expose?: boolean;
  /** Headers the error answer carries (405 Allow, 416 Content-Range, 401 WWW-Authenticate...). */
  headers?: Record<string, string>;
  cause?: unknown;
  /** The error's name, where a convention asks for one ('AbortError', 'TimeoutError'); default 'FcgiError'. */
  name?: string;
}

/**
 * The one error type of @fcgi, raised by every layer: a stable `code` to branch on, the HTTP
 * `status` the error answer carries (`statusCode` too, as http-errors and Express read it),
 * `expose` for whether its message is for the client, and `headers` for that answer. Errors of
 * other libraries are read by the same fields (see errorStatus()).
 */
export class FcgiError extends Error {
  override name = 'FcgiError';
  code: string;
  status: number;
  statusCode: number;
  expose: boolean;
  headers: Record<string, string> | undefined;

  constructor(code: string, message: string, options: number | FcgiErrorOptions = {}) {
    const o = typeof options === 'number' ? { status: options } : options;
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    const status = o.status !== undefined && o.status >= 400 && o.status < 600 ? o.status : 500;
    if (o.name !== undefined) this.name = o.name;
    this.code = code;
    this.status = this.statusCode = status;
    this.expose = o.expose ?? status < 500;
    this.headers = o.headers;
  }
}

/** An HTTP error answer to be: `httpError(404)`, `httpError(405, 'Method Not Allowed', { headers })`. */
export function httpError(
  status: number,
  message?: string,
  options: FcgiErrorOptions & { code?: string } = {},
): FcgiError {
  return new FcgiError(options.code ?? `HTTP_${status}`, message ?? STATUS_CODES[status] ?? `Error ${status}`, {
    ...options,
    status,
  });
}

/** The status an error asks for: its `status` or `statusCode` when 4xx/5xx, else 500. */
export function errorStatus(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const s = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 0;
  return s >= 400 && s < 600 ? s : 500;
}
