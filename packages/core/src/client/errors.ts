// The errors the FastCGI client raises, each with a stable code. Aborts look like the AbortError
// of fetch and Node (name 'AbortError', code 'ABORT_ERR'); a timeout is named 'TimeoutError'.
import { FcgiError } from '../errors.js';

export const ClientErrorCode = {
  /** The request's signal aborted, or the consumer destroyed the response body. */
  ABORTED: 'ABORT_ERR',
  /** The request's timeout elapsed before END_REQUEST. */
  TIMEOUT: 'ERR_FCGI_CLIENT_TIMEOUT',
  /** Connecting took longer than connectTimeout. */
  CONNECT_TIMEOUT: 'ERR_FCGI_CLIENT_CONNECT_TIMEOUT',
  /** Every connection was busy and the wait queue was full. */
  QUEUE_FULL: 'ERR_FCGI_CLIENT_QUEUE_FULL',
  /** close() was called. */
  CLOSED: 'ERR_FCGI_CLIENT_CLOSED',
  /** The application's output was not a valid CGI response (header block malformed or too large). */
  BAD_RESPONSE: 'ERR_FCGI_CLIENT_BAD_RESPONSE',
  /** The application sent bytes that break FastCGI. */
  PROTOCOL: 'ERR_FCGI_CLIENT_PROTOCOL',
  /** The connection closed before END_REQUEST. */
  CONNECTION_LOST: 'ERR_FCGI_CLIENT_CONNECTION_LOST',
  /** END_REQUEST without output and with protocolStatus OVERLOADED, CANT_MPX_CONN or UNKNOWN_ROLE. */
  REJECTED: 'ERR_FCGI_CLIENT_REJECTED',
  /** A target that is neither a socket path nor host:port. */
  INVALID_TARGET: 'ERR_FCGI_CLIENT_INVALID_TARGET',
} as const;
export type ClientErrorCodeName = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * An error of the client: FcgiError, the one error type, with a ClientErrorCode. Aborts are named
 * 'AbortError' and timeouts 'TimeoutError', as fetch and Node name theirs.
 */
export function clientError(code: ClientErrorCodeName, message: string, options: { cause?: unknown } = {}): FcgiError {
  const name =
    code === ClientErrorCode.ABORTED
      ? 'AbortError'
      : code === ClientErrorCode.TIMEOUT
        ? 'TimeoutError'
        : 'FcgiClientError';
  return new FcgiError(code, message, { cause: options.cause, name });
}
