// The errors @fcgi/core raises, each with a stable code (the protocol layer has its own ProtocolError).

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
  /** A listen target that cannot be understood. */
  INVALID_LISTEN_TARGET: 'ERR_FCGI_INVALID_LISTEN_TARGET',
  /** requestTimeout expired (connection/timeouts.ts: RequestTimeoutError). */
  REQUEST_TIMEOUT: 'ERR_FCGI_REQUEST_TIMEOUT',
  /** bodyTimeout expired: the request's input stalled. */
  BODY_TIMEOUT: 'ERR_FCGI_BODY_TIMEOUT',
} as const;
export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FcgiError extends Error {
  override name = 'FcgiError';
  readonly code: ErrorCodeName;
  /** HTTP status a handler's error response should carry, when the error is the client's. */
  readonly status: number | undefined;
  /** True when the message is safe to show to the client. */
  readonly expose: boolean;

  constructor(code: ErrorCodeName, message: string, status?: number) {
    super(message);
    this.code = code;
    this.status = status;
    this.expose = status !== undefined && status >= 400 && status < 500;
  }
}
