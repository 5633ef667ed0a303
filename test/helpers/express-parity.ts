// The same app built twice, on Express 5 (over node:http) and on createApp() (over FastCGI), and
// asked the same requests: status, header lines in order and body must match. Only what node:http
// or a web server adds on its own (Date, Connection, Keep-Alive, Transfer-Encoding) is left out.
import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp, Router, type AppOptions, type Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './http-harness.js';

export interface Answer {
  status: number;
  headers: string[];
  body: string;
}

/** [method, path with query, request headers, body] */
export type ParityCase = [string, string, Record<string, string>?, string?];

/** Makes a fresh app of the same kind (express() or createApp()): for sub-apps. */
export type MakeApp = () => any;
/** Makes a router of the same kind (express.Router() or Router() with the app's matcher). */
export type MakeRouter = () => any;
export type Build = (app: any, makeApp: MakeApp, makeRouter: MakeRouter) => void;

const IGNORED = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function viaExpress(port: number, [method, path, headers = {}, body]: ParityCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const all = body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers };
    const rq = httpRequest({ host: '127.0.0.1', port, method, path, headers: all, agent: false }, (rs) => {
      const chunks: Buffer[] = [];
      rs.on('data', (c: Buffer) => chunks.push(c));
      rs.on('end', () => {
        const lines: string[] = [];
        for (let i = 0; i < rs.rawHeaders.length; i += 2) {
          if (!IGNORED.has(rs.rawHeaders[i]!.toLowerCase())) lines.push(`${rs.rawHeaders[i]}: ${rs.rawHeaders[i + 1]}`);
        }
        resolve({ status: rs.statusCode!, headers: lines, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    rq.setTimeout(5000, () => rq.destroy(new Error(`Express did not answer ${method} ${path}`)));
    rq.on('error', reject);
    rq.end(body);
  });
}

async function viaFastCgi(socket: string, [method, uri, headers = {}, body]: ParityCase): Promise<Answer> {
  const q = uri.indexOf('?');
  const extra: Record<string, string> = {
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    SCRIPT_NAME: q < 0 ? uri : uri.slice(0, q),
    DOCUMENT_URI: q < 0 ? uri : uri.slice(0, q),
    QUERY_STRING: q < 0 ? '' : uri.slice(q + 1),
  };
  if (body !== undefined) extra.CONTENT_LENGTH = String(Buffer.byteLength(body));
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (name === 'content-type') extra.CONTENT_TYPE = v;
    else if (name !== 'content-length') extra[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  }
  const r = await request(socket, nginxParams(extra), body === undefined ? undefined : Buffer.from(body));
  const end = r.stdout.indexOf('\r\n\r\n');
  const lines = r.stdout
    .subarray(0, end)
    .toString('latin1')
    .split('\r\n')
    .filter((l) => !/^Status:/i.test(l) && !IGNORED.has(l.slice(0, l.indexOf(':')).toLowerCase()));
  return { status: r.status, headers: lines, body: r.stdout.subarray(end + 4).toString('latin1') };
}

/** Builds the app with `build` on Express 5 and on createApp(options); both answers to every case. */
export async function answersOf(
  build: Build,
  cases: readonly ParityCase[],
  options: AppOptions = {},
): Promise<{ express: Answer; ours: Answer }[]> {
  // Express's X-Powered-By is off in every Express app here: ours never sends it.
  const makeExpress = () => express().disable('x-powered-by');
  const ex = makeExpress();
  build(ex, makeExpress, () => express.Router());
  const server: Server = ex.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const out: { express: Answer; ours: Answer }[] = [];
  try {
    const ours = createApp(options);
    build(
      ours,
      () => createApp(options),
      () => Router(options.matcher ? { matcher: options.matcher } : {}),
    );
    await withServer(ours as unknown as Handler, async ({ path }) => {
      for (const c of cases) out.push({ express: await viaExpress(port, c), ours: await viaFastCgi(path, c) });
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return out;
}

/**
 * Builds the app with `build` on Express 5 and on createApp(options), asks both every case, and
 * asserts the answers are the same. `build` gets the app and a maker of more apps of its kind.
 */
export async function assertSameAnswers(
  build: Build,
  cases: readonly ParityCase[],
  options: AppOptions = {},
): Promise<void> {
  const answers = await answersOf(build, cases, options);
  answers.forEach(({ express: want, ours: got }, i) => {
    const c = cases[i]!;
    assert.deepEqual(got, want, `${c[0]} ${c[1]} ${JSON.stringify(c[2] ?? {})}`);
  });
}
