// Node frameworks on @fcgi, unmodified: Express 5, Koa 3, Fastify 5 (serverFactory), Connect 3, Hono 4
// (@hono/node-server), h3 2 (toNodeHandler), Polka and tinyhttp, each the same small app
// (test/fixtures/frameworks/) held to one check list (test/helpers/framework-checks.ts) on
// node:http (the reference), behind the built-in gateway and behind a real nginx. One FastCGI
// server and one nginx serve them all, the app chosen by Host (express.test, hono.test...).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFcgiServer, createGateway, type FcgiServer, type Gateway, type Handler } from '@fcgi/core';
import { connectApp, expressApp, fastifyApp, koaApp } from './fixtures/frameworks/node-apps.js';
import { polkaApp, tinyhttpApp } from './fixtures/frameworks/micro-apps.js';
import type { NodeListener } from './fixtures/frameworks/shared.js';
import { h3App, honoApp } from './fixtures/frameworks/web-apps.js';
import { skipUnless } from './helpers/app-process.js';
import { FRAMEWORK_CHECKS, clientFor } from './helpers/framework-checks.js';
import { NGINX, startNginx, type Nginx } from './helpers/nginx.js';

const FRAMEWORKS = ['express', 'koa', 'fastify', 'connect', 'hono', 'h3', 'polka', 'tinyhttp'] as const;
type Framework = (typeof FRAMEWORKS)[number];

async function buildApps(): Promise<Record<Framework, NodeListener>> {
  return {
    express: expressApp(),
    koa: koaApp(),
    fastify: await fastifyApp(),
    connect: connectApp(),
    hono: honoApp(),
    h3: h3App(),
    polka: polkaApp(),
    tinyhttp: tinyhttpApp(),
  };
}

/** One listener for all: the app named by the Host's first label. */
function byHost(apps: Record<Framework, NodeListener>): NodeListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const name = String(req.headers.host).split('.')[0] as Framework;
    const app = apps[name];
    if (app) return app(req, res);
    res.statusCode = 421;
    res.end('no such app\n');
  };
}

const listenHttp = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

const fronts: { name: string; port: number }[] = [];
let dir = '';
let reference: Server | undefined;
let fcgi: FcgiServer | undefined;
let gateway: Gateway | undefined;
let nginx: Nginx | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-frameworks-'));
  const listener = byHost(await buildApps());
  reference = createServer(listener);
  fronts.push({ name: 'node:http (reference)', port: await listenHttp(reference) });
  const socket = join(dir, 'app.sock');
  fcgi = createFcgiServer(listener as unknown as Handler, { onConnectionError: () => {} });
  await fcgi.listenOn({ kind: 'unix', path: socket });
  gateway = createGateway({ to: socket, onStderr: () => {} });
  fronts.push({ name: 'the built-in gateway', port: await listenHttp(gateway.server) });
  if (NGINX) {
    nginx = await startNginx(socket);
    fronts.push({ name: 'nginx', port: nginx.port });
  }
});

after(async () => {
  await nginx?.stop();
  await gateway?.close();
  await fcgi?.close();
  await new Promise((resolve) => (reference ? reference.close(resolve) : resolve(undefined)));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const FRONT_NAMES = ['node:http (reference)', 'the built-in gateway', 'nginx'];

// Every uncaught error while the checks run (node:test fails on them too; this names the check).
const uncaught: Error[] = [];
process.on('uncaughtExceptionMonitor', (err) => uncaught.push(err));

for (const framework of FRAMEWORKS) {
  describe(framework, { timeout: 120_000 }, () => {
    for (const frontName of FRONT_NAMES) {
      describe(`behind ${frontName}`, { skip: frontName === 'nginx' ? skipUnless(NGINX, 'nginx') : false }, () => {
        for (const check of FRAMEWORK_CHECKS) {
          it(check.name, { timeout: 30_000 }, async () => {
            const front = fronts.find((f) => f.name === frontName)!;
            const before = uncaught.length;
            await check.run(clientFor(front.port, `${framework}.test`));
            assert.deepEqual(uncaught.slice(before), [], 'no uncaught error during the check');
          });
        }
      });
    }
  });
}
