// Limits of one connection, with the defaults a server starts from.

export interface ConnectionLimits {
  /** Bytes of PARAMS one request may send; over it the request is answered 431. */
  maxParamsBytes: number;
  /** Name-value pairs one request may send; over it the request is answered 431. */
  maxParams: number;
  /** Requests one connection may have in flight at once (multiplexing); more get OVERLOADED. */
  maxRequestsPerConnection: number;
  /** Bytes of a request body buffered for a handler that has not read it yet, before the socket is paused. */
  bodyHighWaterMark: number;
  /** Bytes of STDIN accepted for a request before its PARAMS are complete. */
  maxEarlyStdinBytes: number;
  /** Milliseconds to wait for the web server to close after we did, reading and discarding meanwhile. */
  lingerTimeout: number;
  /**
   * Milliseconds a request may take from BEGIN_REQUEST to END_REQUEST; 0 = no limit (the default:
   * streaming and long-poll handlers are legitimate, and the web server has its own read timeout).
   * On expiry the handler is aborted (req.signal, 'aborted', res 'close'); the web server gets a 503
   * if no output went out yet, else the output is cut (END_REQUEST with appStatus 1).
   */
  requestTimeout: number;
  /**
   * Milliseconds the input of a request (PARAMS, then STDIN up to its empty record) may stall while
   * the connection is reading; 0 = no limit. Time the socket is paused because a handler does not
   * read its body does not count. On expiry: a 408 if no output went out yet, else the output is
   * cut; the handler is aborted. Default 120 s: twice nginx's fastcgi_send_timeout.
   */
  bodyTimeout: number;
}

export const defaultConnectionLimits: Readonly<ConnectionLimits> = Object.freeze({
  maxParamsBytes: 256 * 1024,
  maxParams: 1000,
  maxRequestsPerConnection: 100,
  bodyHighWaterMark: 64 * 1024,
  maxEarlyStdinBytes: 1024 * 1024,
  lingerTimeout: 5000,
  requestTimeout: 0,
  bodyTimeout: 120_000,
});
