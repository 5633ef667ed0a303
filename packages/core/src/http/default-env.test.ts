// settleEnv(): which apps' `env` serve() settles and which it leaves alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { createApp } from '../create-app.js';
import { settleEnv } from './default-env.js';

/** Runs `fn` with NODE_ENV unset (or set to `value`), then puts it back. */
function withNodeEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.NODE_ENV;
  if (value === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

describe('settleEnv', () => {
  it('a createApp() app nobody configured: development until settled, then the mode given', () => {
    withNodeEnv(undefined, () => {
      const app = createApp();
      assert.equal(app.get('env'), 'development');
      assert.equal(app.get('view cache'), undefined);
      settleEnv(app, 'production');
      assert.equal(app.get('env'), 'production');
      assert.equal(app.get('view cache'), true); // as Express in production
      const noCache = createApp().disable('view cache');
      settleEnv(noCache, 'production');
      assert.equal(noCache.get('view cache'), false);
      const gw = createApp();
      settleEnv(gw, 'development');
      assert.equal(gw.get('view cache'), undefined);
      // Settled once: a second serve() does not move it again.
      settleEnv(app, 'development');
      assert.equal(app.get('env'), 'production');
    });
  });

  it("app.set('env', ...) and NODE_ENV win", () => {
    withNodeEnv(undefined, () => {
      const app = createApp();
      app.set('env', 'development');
      settleEnv(app, 'production');
      assert.equal(app.get('env'), 'development');
    });
    withNodeEnv('staging', () => {
      const app = createApp();
      settleEnv(app, 'production');
      assert.equal(app.get('env'), 'staging');
    });
  });

  it('a mounted sub-app takes its parent’s env, settled or explicit', () => {
    withNodeEnv(undefined, () => {
      const parent = createApp();
      const sub = createApp();
      parent.use('/sub', sub);
      settleEnv(parent, 'production');
      assert.equal(sub.get('env'), 'production');
      const own = createApp().set('env', 'test');
      parent.use('/own', own);
      assert.equal(own.get('env'), 'test');
    });
  });

  it("an Express app on Express's default: production, with 'view cache'; an explicit production or NODE_ENV kept", () => {
    withNodeEnv(undefined, () => {
      const app = express();
      settleEnv(app, 'production');
      assert.equal(app.get('env'), 'production');
      assert.equal(app.get('view cache'), true);
      const noCache = express().disable('view cache');
      settleEnv(noCache, 'production');
      assert.equal(noCache.get('view cache'), false);
      const gw = express();
      settleEnv(gw, 'development');
      assert.equal(gw.get('env'), 'development');
      assert.equal(gw.get('view cache'), undefined);
    });
    withNodeEnv('development', () => {
      const app = express();
      settleEnv(app, 'production');
      assert.equal(app.get('env'), 'development');
    });
  });

  it('plain handlers and non-functions are left alone', () => {
    const handler = Object.assign(() => {}, { settings: { env: 'development' } });
    settleEnv(handler, 'production');
    assert.equal(handler.settings.env, 'development');
    settleEnv(undefined, 'production');
  });
});
