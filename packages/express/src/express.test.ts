// The module's shape against Express 5's own, and Express's listen arguments read as serve() options.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import realExpress from 'express';
import { Application, AppRequest, AppResponse } from '@fcgi/core';
import { patterns } from '@fcgi/router';
import { serveStatic } from '@fcgi/static';
import express, * as named from './index.js';
import { planListen } from './listen.js';

describe('@fcgi/express', () => {
  it("has every member of Express 5's module, by default and by name", () => {
    const keys = Object.keys(realExpress).sort();
    assert.deepEqual(keys, [
      'Route',
      'Router',
      'application',
      'json',
      'raw',
      'request',
      'response',
      'static',
      'text',
      'urlencoded',
    ]);
    for (const key of keys) {
      assert.equal(
        typeof (express as unknown as Record<string, unknown>)[key],
        typeof (realExpress as unknown as Record<string, unknown>)[key],
        key,
      );
      assert.equal((named as Record<string, unknown>)[key], (express as unknown as Record<string, unknown>)[key], key);
    }
    assert.equal(express.static, serveStatic);
  });

  it("makes apps with Express 5's path syntax whose request/response inherit express.request/response", () => {
    const app = express();
    assert.ok(app instanceof Application);
    assert.equal(Object.getPrototypeOf(app), express.application);
    assert.equal(app.matcher, patterns);
    assert.equal(Object.getPrototypeOf(app.request), express.request);
    assert.equal(express.request, AppRequest.prototype);
    assert.equal(express.response, AppResponse.prototype);
    assert.doesNotThrow(() => app.get('/users/:id', () => {}));
    assert.doesNotThrow(() => express.Router().get('/files/*path', () => {}));
  });

  it('reads the listen arguments as Express does, the port and host going to the gateway', () => {
    const cb = () => {};
    assert.deepEqual(planListen([]), { options: {}, callback: undefined });
    assert.deepEqual(planListen([cb]), { options: {}, callback: cb });
    assert.deepEqual(planListen([3000, cb]), { options: { port: 3000 }, callback: cb });
    assert.deepEqual(planListen(['8080']), { options: { port: 8080 }, callback: undefined });
    assert.deepEqual(planListen([0, '::1', 511, cb]), { options: { port: 0, host: '::1' }, callback: cb });
    assert.deepEqual(planListen(['/run/app.sock', cb]), {
      options: { target: { path: '/run/app.sock' } },
      callback: cb,
    });
    assert.deepEqual(planListen([{ port: 4000, host: '127.0.0.2' }]), {
      options: { port: 4000, host: '127.0.0.2' },
      callback: undefined,
    });
    assert.deepEqual(planListen([{ path: '/tmp/a.sock' }]), {
      options: { target: { path: '/tmp/a.sock' } },
      callback: undefined,
    });
    assert.throws(() => planListen([70000]), /port 70000 is not 0-65535/);
    assert.throws(() => planListen([true]), TypeError);
  });

  it('calls back once listening, and with the error when the port is taken (no rejection then)', async () => {
    const app = express();
    app.get('/', (_req, res) => void res.send('hi'));
    const serving = await new Promise<Awaited<ReturnType<typeof app.listen>>>((resolve, reject) => {
      const p = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : p.then(resolve)));
    });
    assert.equal(serving.mode, 'gateway');
    try {
      const res = await fetch(serving.mode === 'gateway' ? `${serving.url}/` : '');
      assert.equal(await res.text(), 'hi');
    } finally {
      await serving.close();
    }

    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const err = await new Promise<Error | undefined>((resolve) => {
        void express().listen(port, '127.0.0.1', resolve);
      });
      assert.equal((err as NodeJS.ErrnoException | undefined)?.code, 'EADDRINUSE');
    } finally {
      busy.close();
    }
  });
});
