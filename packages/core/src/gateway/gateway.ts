// An HTTP/1.1 front for any FastCGI app: what nginx does in production, for development and tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { FcgiClient, type FcgiClientOptions } from '../client/index.js';
import { HOP_BY_HOP } from '../http/index.js';
import { paramsFromRequest, type ParamsOptions } from './params.js';

export interface GatewayOptions extends ParamsOptions {
  /** The FastCGI app: a unix socket path, "host:port" or { host, port }. */
  to: FcgiClientOptions['target'];
  /** Client settings (pool size, timeouts). */
  client?: Omit<FcgiClientOptions, 'target'>;
  /** Where the app's FCGI_STDERR goes. Default: process.stderr, prefixed like nginx's log line. */
  onStderr?(text: string, req: IncomingMessage): void;
}

export interface Gateway {
  server: Server;
  client: FcgiClient;
  /** Stops the HTTP server and the client's connections. */
  close(): Promise<void>;
}

/** An http.Server that forwards every request to the FastCGI app at `options.to`. */
export function createGateway(options: GatewayOptions): Gateway {
  const client = new FcgiClient({ ...options.client, target: options.to });
  const onStderr = options.onStderr ?? ((text: string, req: IncomingMessage) => {
    process.stderr.write(`FastCGI sent in stderr (${req.method} ${req.url}): ${text.endsWith('\n') ? text : text + '\n'}`);
  });
  const server = createServer((req, res) => void forward(client, options, onStderr, req, res));
  return {
    server,
    client,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }).then(() => client.close()),
  };
}

async function forward(
  client: FcgiClient, options: GatewayOptions, onStderr: (text: string, req: IncomingMessage) => void,
  req: IncomingMessage, res: ServerResponse,
): Promise<void> {
  // The browser going away aborts the FastCGI request (ABORT_REQUEST, or the connection closed).
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  let upstream;
  try {
    upstream = await client.request({
      params: paramsFromRequest(req, options),
      body: hasBody ? req : undefined,
      signal: abort.signal,
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    process.stderr.write(`fcgi gateway: ${req.method} ${req.url}: ${(err as Error).message}\n`);
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('502 Bad Gateway\n');
    } else res.destroy();
    return;
  }
  upstream.on('stderr', (text: string) => onStderr(text, req));
  const headers: string[] = [];
  for (const [name, value] of upstream.rawHeaders) {
    const key = name.toLowerCase();
    if (key === 'status' || HOP_BY_HOP.has(key)) continue;
    headers.push(name, value);
  }
  res.writeHead(upstream.status, upstream.statusText, headers);
  pipeline(upstream.body, res, () => {});
}
