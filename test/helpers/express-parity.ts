// The same app built twice, on Express 5 (over node:http) and on createApp() (over FastCGI), and
// asked the same requests: status, header lines in order and body must match. Only what node:http
// or a web server adds on its own (Date, Connection, Keep-Alive, Transfer-Encoding) is left out.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp, Router, type AppOptions, type Handler } from '@fcgi/core';
import { viaExpress as askExpress, viaFastCgi as askFastCgi, type Answer, type Ask } from './express-diff.js';
import { withServer } from './http-harness.js';

export type { Answer };

/** [method, path with query, request headers, body] */
export type ParityCase = [string, string, Record<string, string>?, string?];

/** Makes a fresh app of the same kind (express() or createApp()): for sub-apps. */
export type MakeApp = () => any;
/** Makes a router of the same kind (express.Router() or Router() with the app's matcher). */
export type MakeRouter = () => any;
export type Build = (app: any, makeApp: MakeApp, makeRouter: MakeRouter) => void;

function ask([method, uri, headers = {}, body]: ParityCase): Ask {
  return { method, uri, headers, body: body === undefined ? undefined : Buffer.from(body) };
}

const viaExpress = (port: number, c: ParityCase) => askExpress(port, ask(c));
const viaFastCgi = (socket: string, c: ParityCase) => askFastCgi(socket, ask(c));

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
