// One request sent to an Express 5 app (over node:http) and to a createApp() app (over real
// FastCGI, raw client on a unix socket), each answer read as status, header lines in order and
// body, for tests that compare the two. What node:http or a web server adds on its own (Date,
// Connection, Keep-Alive, Transfer-Encoding) is left out.
import { request as httpRequest, type RequestListener, type Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeStream } from '@fcgi/core/protocol';
import { nginxParams, request, splitCgi } from './http-harness.js';
import { RawClient } from './raw-client.js';

export interface Answer {
  status: number;
  headers: string[];
  body: string;
}

export interface Ask {
  method?: string;
  /** Path with query, as the client sends it. */
  uri: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Send the body this many ms after the head (the app is then waiting for it). */
  lateMs?: number;
}

const IGNORED = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** An Express app listening on loopback; `close()` stops it. */
export async function listenExpress(app: RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer(app);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function viaExpress(port: number, ask: Ask): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...ask.headers };
    if (ask.body) headers['content-length'] = String(ask.body.length);
    const rq = httpRequest(
      { host: '127.0.0.1', port, method: ask.method ?? 'GET', path: ask.uri, headers, agent: false, timeout: 5000 },
      (rs) => {
        const chunks: Buffer[] = [];
        rs.on('data', (c: Buffer) => chunks.push(c));
        rs.on('end', () => {
          const lines: string[] = [];
          for (let i = 0; i < rs.rawHeaders.length; i += 2) {
            if (!IGNORED.has(rs.rawHeaders[i]!.toLowerCase()))
              lines.push(`${rs.rawHeaders[i]}: ${rs.rawHeaders[i + 1]}`);
          }
          resolve({ status: rs.statusCode!, headers: lines, body: Buffer.concat(chunks).toString('latin1') });
        });
      },
    );
    rq.on('timeout', () => rq.destroy(new Error(`no answer from Express for ${ask.uri}`)));
    rq.on('error', reject);
    if (ask.lateMs === undefined) rq.end(ask.body);
    else {
      rq.flushHeaders();
      setTimeout(() => rq.end(ask.body), ask.lateMs);
    }
  });
}

export async function viaFastCgi(socketPath: string, ask: Ask): Promise<Answer> {
  const q = ask.uri.indexOf('?');
  const path = q < 0 ? ask.uri : ask.uri.slice(0, q);
  const extra: Record<string, string> = {
    REQUEST_METHOD: ask.method ?? 'GET',
    REQUEST_URI: ask.uri,
    SCRIPT_NAME: path,
    DOCUMENT_URI: path,
    QUERY_STRING: q < 0 ? '' : ask.uri.slice(q + 1),
  };
  for (const [k, v] of Object.entries(ask.headers ?? {})) {
    const name = k.toLowerCase();
    if (name === 'content-type') extra.CONTENT_TYPE = v;
    else if (name !== 'content-length') extra[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  }
  if (ask.body) extra.CONTENT_LENGTH = String(ask.body.length);
  const r =
    ask.lateMs === undefined
      ? await request(socketPath, nginxParams(extra), ask.body)
      : await late(socketPath, nginxParams(extra), ask.body ?? Buffer.alloc(0), ask.lateMs);
  const end = r.stdout.indexOf('\r\n\r\n');
  const lines = r.stdout
    .subarray(0, end)
    .toString('latin1')
    .split('\r\n')
    .filter((l) => !/^Status:/i.test(l) && !IGNORED.has(l.slice(0, l.indexOf(':')).toLowerCase()));
  return { status: r.status, headers: lines, body: r.stdout.subarray(end + 4).toString('latin1') };
}

/** The answer with its header lines sorted, for senders that set the same headers in another order. */
export function sortedHeaders(a: Answer): Answer {
  return { ...a, headers: [...a.headers].sort() };
}

/** A request whose STDIN goes out `ms` after its params, answered as request() answers. */
async function late(socketPath: string, params: Record<string, string>, body: Buffer, ms: number) {
  const client = await RawClient.connect(socketPath);
  try {
    client.write(encodeBeginRequest(1, 1, false));
    client.write(encodeStream(RecordType.PARAMS, 1, encodeNameValues(params)));
    await new Promise((resolve) => setTimeout(resolve, ms));
    client.write(encodeStream(RecordType.STDIN, 1, body));
    const reply = await client.reply(1, 5000);
    return { ...reply, ...splitCgi(reply.stdout) };
  } finally {
    client.close();
  }
}
