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
  /**
   * Bytes of STDIN a connection may hold for its requests whose PARAMS are not complete yet, all
   * requests together (legal, but no web server sends it); over it the connection is closed.
   */
  maxEarlyStdinBytes: number;
  /**
   * Bytes a connection may have queued for the socket while the web server does not read; over it,
   * output written in a later turn of the event loop than the one that passed it, with no drain
   * between, closes the connection (logged). Output written in one turn goes out whole, however
   * large (the socket cannot drain during it). Reading stops anyway as soon as the socket's buffer
   * is full, so this bounds only handlers that go on writing when `write()` returns false.
   */
  maxOutputQueueBytes: number;
  /**
   * Milliseconds a request's PARAMS may take as a whole, from BEGIN_REQUEST to the empty PARAMS
   * record (nginx's client_header_timeout, Node's headersTimeout), and a record other than STDIN may
   * stay incomplete; 0 = no limit. A request over it gets a 408 without running its handler; an
   * incomplete record closes the connection. Checked by one timer per connection: expiry comes
   * between paramsTimeout and twice it.
   */
  paramsTimeout: number;
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
  maxEarlyStdinBytes: 64 * 1024,
  maxOutputQueueBytes: 16 * 1024 * 1024,
  paramsTimeout: 60_000,
  lingerTimeout: 5000,
  requestTimeout: 0,
  bodyTimeout: 120_000,
});
