// The two ends a request and its response are carried by: the request's source (params, body) and
// the response's sink (head, body, stderr, end, destroy). FastCGI records (sink-fastcgi.ts), CGI's
// stdio (cgi/cgi-transport.ts) and the in-process client (client/in-process.ts) implement them.

type Chunk = Uint8Array | string;

/**
 * Where a response goes; FcgiResponse writes only through this. Backpressure and the end of the
 * transport flow back through the response's entry points: drainResponse() after a write returned
 * false, abortResponse() (the response's 'close') when the client is gone.
 */
export interface ResponseSink {
  /**
   * Sends `head` (the CGI header block, latin1; '' once it went out) then `body` (a string is
   * UTF-8). False when the transport's buffer is full: wait for drainResponse().
   */
  write(head: string, body: Chunk | null): boolean;
  /** Sends `head` and `body` as write() does; the response is then complete. */
  end(head: string, body: Chunk | null): void;
  /** Diagnostics for the server's error log (FCGI_STDERR, the process's stderr...). */
  stderr(data: Chunk): boolean;
  /**
   * Ends the response cut off, so the far end can tell it is incomplete (FastCGI: appStatus 1).
   * `reason`: why, when known.
   */
  destroy(reason?: Error): void;
  /** True once a byte of the response went out: an error answer can no longer replace it. */
  readonly outputStarted: boolean;
}

/**
 * Where a request comes from. The body flows into the request (push(); endRequestBody() at its
 * end; abortRequest() when the client is gone); when a push returns false the source holds the
 * rest until resumeBody().
 */
export interface RequestSource {
  /** The request's id on its connection (1 where there is no connection). */
  readonly id: number;
  /** The FastCGI role (protocol/constants Role); a Responder outside FastCGI. */
  readonly role: number;
  /** The params (CGI environment) of the request. */
  readonly environ: Record<string, string>;
  /**
   * req.headers when the source built them while the params were decoded (one pass over them);
   * null when it has the environ whole, and they are made from it.
   */
  readonly headers: Record<string, string> | null;
  /** req.rawHeaders, built with `headers` (null with it). */
  readonly rawHeaders: string[] | null;
  /** The request's reader wants more after a push returned false. */
  resumeBody(): void;
}

/** One request's transport: its source and its response's sink. */
export interface Transport extends RequestSource, ResponseSink {}
