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
}

export const defaultConnectionLimits: Readonly<ConnectionLimits> = Object.freeze({
  maxParamsBytes: 256 * 1024,
  maxParams: 1000,
  maxRequestsPerConnection: 100,
  bodyHighWaterMark: 64 * 1024,
  maxEarlyStdinBytes: 1024 * 1024,
  lingerTimeout: 5000,
});
