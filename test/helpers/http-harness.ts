// In-process servers and one-shot requests for the request/response tests (test/http-*.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFcgiServer, type FcgiServer, type Handler, type ServerOptions } from '@fcgi/core';
import { RawClient, parseCgi, type ReceivedRecord, type Reply } from './raw-client.js';

export interface TestServer {
  server: FcgiServer;
  /** The unix socket path. */
  path: string;
  dir: string;
}

/** Runs `fn` against a server listening on a unix socket in a fresh temp dir; always closes both. */
export async function withServer(
  handler: Handler,
  fn: (s: TestServer) => Promise<void>,
  options: ServerOptions = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-http-'));
  const path = join(dir, 'app.sock');
  const server = createFcgiServer(handler, { onConnectionError: () => {}, ...options });
  try {
    await server.listenOn({ kind: 'unix', path });
    await fn({ server, path, dir });
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Params as nginx with Debian's fastcgi_params sends them for `GET /` (empty CONTENT_* included);
 * `extra` overrides, and a value of undefined removes a param.
 */
export function nginxParams(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    QUERY_STRING: '',
    REQUEST_METHOD: 'GET',
    CONTENT_TYPE: '',
    CONTENT_LENGTH: '',
    SCRIPT_NAME: '/',
    REQUEST_URI: '/',
    DOCUMENT_URI: '/',
    DOCUMENT_ROOT: '/var/www/html',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_SCHEME: 'http',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'nginx/1.22.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: '80',
    SERVER_NAME: 'localhost',
    REDIRECT_STATUS: '200',
    HTTP_HOST: 'localhost',
    ...extra,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (v !== undefined) out[k] = v;
  return out;
}

export interface Exchanged extends Reply {
  /** Every record received for the request, in order. */
  records: ReceivedRecord[];
}

/** One request on a fresh connection (no KEEP_CONN); resolves with what came back by END_REQUEST. */
export async function send(
  path: string,
  params: Record<string, string>,
  body?: Uint8Array,
  ms = 5000,
): Promise<Exchanged> {
  const client = await RawClient.connect(path);
  try {
    client.sendRequest(1, params, body);
    const reply = await client.reply(1, ms);
    return { ...reply, records: client.records.filter((r) => r.requestId === 1) };
  } finally {
    client.close();
  }
}

/** parseCgi, also for an empty header block (stdout starting with the empty line). */
export function splitCgi(stdout: Buffer): ReturnType<typeof parseCgi> {
  if (stdout.subarray(0, 2).toString('latin1') === '\r\n')
    return { status: 200, headers: {}, body: stdout.subarray(2) };
  return parseCgi(stdout);
}

/** send(), with the stdout split into status, headers and body. */
export async function request(path: string, params: Record<string, string>, body?: Uint8Array, ms = 5000) {
  const r = await send(path, params, body, ms);
  return { ...r, ...splitCgi(r.stdout) };
}
