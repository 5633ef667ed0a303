// An HTTP/1.1 front for any FastCGI app: what nginx does in production, for development and tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { FcgiClient, type FcgiClientOptions, type FcgiClientResponse } from '../client/index.js';
import { FcgiError } from '../errors.js';
import { paramsFromRequest, type ParamsOptions } from './params.js';
import { clientHead, relayBody } from './relay.js';
import { spoolBody } from './spool.js';

export interface GatewayOptions extends ParamsOptions {
  /** The FastCGI app: a unix socket path, "host:port" or { host, port }. */
  to: FcgiClientOptions['target'];
  /** Client settings (pool size, timeouts). */
  client?: Omit<FcgiClientOptions, 'target'>;
  /**
   * Largest chunked request body (one without Content-Length): it is written to a temp file first
   * so that the app gets CONTENT_LENGTH, as nginx does; bigger ones get 413. Default 1 GiB.
   * Bodies with a Content-Length are streamed through without a limit.
   */
  maxChunkedBody?: number;
  /** Milliseconds close() lets responses in flight finish before it cuts their connections. Default 3000. */
  closeTimeout?: number;
  /** Where the app's FCGI_STDERR goes. Default: process.stderr, prefixed like nginx's log line. */
  onStderr?(text: string, req: IncomingMessage): void;
}

export interface Gateway {
  server: Server;
  client: FcgiClient;
  /** Stops the HTTP server (bounded by closeTimeout) and the client's connections. */
  close(): Promise<void>;
}

/** An http.Server that forwards every request to the FastCGI app at `options.to`. */
export function createGateway(options: GatewayOptions): Gateway {
  const client = new FcgiClient({ ...options.client, target: options.to });
  const onStderr =
    options.onStderr ??
    ((text: string, req: IncomingMessage) => {
      process.stderr.write(
        `FastCGI sent in stderr (${req.method} ${req.url}): ${text.endsWith('\n') ? text : text + '\n'}`,
      );
    });
  const server = createServer((req, res) => {
    // forward() handles its own failures; this is the last guard: nothing a peer sends may end the process.
    forward(client, options, onStderr, req, res).catch((err: Error) => {
      log(req, `gateway error: ${err.message}`);
      res.destroy();
    });
  });
  return {
    server,
    client,
    close: () =>
      new Promise<void>((resolve) => {
        // A client that stopped reading would hold close() forever: cut what is left after the grace.
        const timer = setTimeout(() => server.closeAllConnections(), options.closeTimeout ?? 3000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }).then(() => client.close()),
  };
}

async function forward(
  client: FcgiClient,
  options: GatewayOptions,
  onStderr: (text: string, req: IncomingMessage) => void,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // The browser going away aborts the FastCGI request (ABORT_REQUEST, or the connection closed).
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let upstream: FcgiClientResponse;
  try {
    const params = paramsFromRequest(req, options);
    let body: Readable | undefined;
    if (req.headers['content-length'] !== undefined) body = req;
    else if (req.headers['transfer-encoding'] !== undefined) {
      const spooled = await spoolBody(req, options.maxChunkedBody ?? 2 ** 30);
      if (abort.signal.aborted) return void spooled.stream.destroy();
      params[params.findIndex(([name]) => name === 'CONTENT_LENGTH')]![1] = String(spooled.length);
      body = spooled.stream;
    }
    upstream = await client.request({ params, body, signal: abort.signal });
  } catch (err) {
    if (abort.signal.aborted) return;
    if (err instanceof FcgiError && (err.status === 400 || err.status === 413)) return refuse(res, err.status, req);
    log(req, (err as Error).message);
    return badGateway(res);
  }
  upstream.on('stderr', (text: string) => onStderr(text, req));
  const head = clientHead(upstream);
  if (typeof head === 'string') {
    // nginx: "upstream sent invalid header ... while reading response header from upstream", 502.
    log(req, head);
    upstream.body.on('error', () => {}).destroy();
    return badGateway(res);
  }
  res.writeHead(upstream.status, upstream.statusText, head.headers);
  const bodyAllowed = req.method !== 'HEAD' && upstream.status !== 204 && upstream.status !== 304;
  relayBody(upstream, res, head.length, bodyAllowed, (message) => log(req, message));
}

function log(req: IncomingMessage, message: string): void {
  process.stderr.write(`fcgi gateway: ${req.method} ${req.url}: ${message}\n`);
}

function badGateway(res: ServerResponse): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(502, { 'Content-Type': 'text/plain' });
  res.end('502 Bad Gateway\n');
}

/** A request refused before it reached the app; the rest of its body is not read. */
function refuse(res: ServerResponse, status: 400 | 413, req: IncomingMessage): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end(status === 400 ? '400 Bad Request\n' : '413 Content Too Large\n');
  req.resume();
}
