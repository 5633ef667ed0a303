// inject(): a request through a handler or an app without sockets, fetch-shaped: a Web Request in,
// a Web Response out. For tests of apps (users' and this project's): what a handler answers
// here is what it answers behind nginx, minus the web server.
import { handlerRunner, type Handler, type NodeHandler } from '../http/responder.js';
import { environFromRequest } from './in-process-environ.js';
import { InProcessTransport } from './in-process-sink.js';

export interface InjectInit extends RequestInit {
  /** Params added to those built from the request, or replacing them (they win). */
  environ?: Record<string, string>;
  /** REMOTE_ADDR; default 127.0.0.1. */
  remoteAddress?: string;
  /** REMOTE_PORT; default none. */
  remotePort?: number;
  /** Receives what the handler writes to stderr (res.err(), a thrown error's stack); default process.stderr. */
  stderr?: (text: string) => void;
}

const writeStderr = (text: string): void => void process.stderr.write(text);

/**
 * Runs one request through `handler` (a core handler, a createApp() app, an Express app) in
 * process, and resolves with its response once the CGI header block went out: status, headers
 * (each Set-Cookie its own value: `headers.getSetCookie()`) and the body as a stream that the
 * handler's writes fill with backpressure (write() returns false until the body is read).
 *
 * `input` and `init` are those of fetch(); a string starting with "/" is a path on
 * http://localhost. The params are what nginx with Debian's fastcgi_params would send for the
 * request (REQUEST_METHOD, REQUEST_URI, SCRIPT_NAME, QUERY_STRING, CONTENT_TYPE/LENGTH, HTTP_*,
 * SERVER_PROTOCOL, REMOTE_ADDR 127.0.0.1, SERVER_NAME ...), plus `init.environ`. A body without a
 * Content-Length header is read whole first (as nginx buffers one) to give CONTENT_LENGTH; with
 * one, it streams to the handler as the handler reads. Redirects are not followed. Aborting
 * `init.signal` aborts the handler's request ('aborted', req.signal) and rejects (or errors the
 * body) with the signal's reason. A status a Web Response cannot carry (outside 200-599) rejects.
 */
export function inject(handler: Handler, input: string | URL | Request, init?: InjectInit): Promise<Response>;
export function inject(handler: NodeHandler, input: string | URL | Request, init?: InjectInit): Promise<Response>;
export async function inject(
  handler: Handler | NodeHandler,
  input: string | URL | Request,
  init: InjectInit = {},
): Promise<Response> {
  const { environ, remoteAddress, remotePort, stderr, ...requestInit } = init;
  const target = typeof input === 'string' && input.startsWith('/') ? new URL(input, 'http://localhost') : input;
  const request = new Request(target, requestInit);
  request.signal.throwIfAborted();
  let body: Uint8Array | ReadableStream<Uint8Array> | null = request.body;
  // As fetch sends it: the header given, the length of a body read whole, 0 for a POST or PUT without one.
  let contentLength = request.headers.get('content-length') ?? '';
  if (body !== null && contentLength === '') {
    body = new Uint8Array(await request.arrayBuffer());
    contentLength = String(body.length);
  } else if (body === null && contentLength === '' && (request.method === 'POST' || request.method === 'PUT')) {
    contentLength = '0';
  }
  request.signal.throwIfAborted();
  const params = environFromRequest(request, new URL(request.url), {
    contentLength,
    remoteAddress,
    remotePort,
    extra: environ,
  });
  const transport = new InProcessTransport(params, {
    method: request.method,
    body,
    signal: request.signal,
    stderr: stderr ?? writeStderr,
  });
  handlerRunner(handler)(transport);
  transport.readBody();
  return transport.response;
}
