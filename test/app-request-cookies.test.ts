// req.cookies / req.signedCookies over real FastCGI, the helpers on a mounted app and on a core
// request upgraded in place, laziness (nothing parsed unless read), and how the app's own parsing
// ('cookie parser' / 'cookie secret' settings) and cookie-parser divide the work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import cookieParser from 'cookie-parser';
import { AppRequest, createApp, type App, type Handler, type Middleware } from '@fcgi/core';
import { sign } from '../packages/core/src/semantics/index.js';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

function serveApp(app: App | Handler, fn: (path: string) => Promise<void>): Promise<void> {
  return withServer(app as unknown as Handler, ({ path }) => fn(path));
}

async function ask(path: string, extra: Record<string, string | undefined> = {}): Promise<any> {
  const r = await request(path, nginxParams(extra));
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString());
}

function cookieApp(): App {
  const app = createApp();
  app.use((req, res) => {
    res.end(JSON.stringify({ cookies: req.cookies, signed: req.signedCookies, secret: req.secret ?? null }));
  });
  return app;
}

const good = `s:${sign('alice', 'k1')}`;
// Same signature, value changed: what a client editing its cookie sends.
const tampered = `s:${sign('alice', 'k1').replace(/^alice/, 'admin')}`;
const cookieHeader = [
  'plain=hello%20world',
  `user=${encodeURIComponent(good)}`,
  `forged=${encodeURIComponent(tampered)}`,
  `prefs=${encodeURIComponent('j:{"theme":"dark"}')}`,
  'bad=j:{oops',
].join('; ');

describe('app request: cookies', () => {
  it('parses the Cookie header; signed values verify with the cookie secret, tampered ones are false', {
    timeout: 10_000,
  }, async () => {
    const app = cookieApp();
    app.set('cookie secret', 'k1');
    await serveApp(app, async (path) => {
      const r = await ask(path, { HTTP_COOKIE: cookieHeader });
      assert.deepEqual(r.cookies, { plain: 'hello world', prefs: { theme: 'dark' }, bad: 'j:{oops' });
      assert.deepEqual(r.signed, { user: 'alice', forged: false });
      assert.equal(r.secret, 'k1');
      // A rotated secret: the old one still verifies.
      app.set('cookie secret', ['k2', 'k1']);
      assert.deepEqual((await ask(path, { HTTP_COOKIE: cookieHeader })).signed, { user: 'alice', forged: false });
      // The wrong secret: present but not verified.
      app.set('cookie secret', 'other');
      assert.deepEqual((await ask(path, { HTTP_COOKIE: cookieHeader })).signed, { user: false, forged: false });
      // No Cookie header: both empty.
      assert.deepEqual(await ask(path, {}), { cookies: {}, signed: {}, secret: 'other' });
    });
  });

  it("without a secret ('cookie parser' on), signed values stay in cookies as sent", { timeout: 10_000 }, async () => {
    const app = cookieApp();
    app.set('cookie parser', true);
    await serveApp(app, async (path) => {
      const r = await ask(path, { HTTP_COOKIE: cookieHeader });
      assert.equal(r.cookies.user, good);
      assert.deepEqual(r.signed, {});
      assert.equal(r.secret, null);
    });
  });

  it('req.secret, cookies and signedCookies are assignable, as cookie-parser assigns them', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.set('cookie parser', true);
    app.use((req, _res, next) => {
      req.secret = 'k1'; // what cookie-parser('k1') sets
      next();
    });
    app.use('/set', (req, _res, next) => {
      req.cookies = { injected: 'yes' };
      req.signedCookies = { who: 'middleware' };
      next();
    });
    app.use((req, res) => res.end(JSON.stringify({ cookies: req.cookies, signed: req.signedCookies })));
    await serveApp(app, async (path) => {
      const r = await ask(path, { HTTP_COOKIE: cookieHeader });
      assert.deepEqual(r.signed, { user: 'alice', forged: false });
      const set = await ask(path, { HTTP_COOKIE: cookieHeader, REQUEST_URI: '/set/x', SCRIPT_NAME: '/set/x' });
      assert.deepEqual(set, { cookies: { injected: 'yes' }, signed: { who: 'middleware' } });
    });
  });

  it("cookie-parser('secret') still runs: its secret verifies and signs", { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use(cookieParser('k1') as unknown as Middleware);
    app.use((req, res) => {
      res.cookie('next', 'bob', { signed: true });
      res.end(JSON.stringify({ cookies: req.cookies, signed: req.signedCookies, secret: req.secret }));
    });
    await serveApp(app, async (path) => {
      const r = await request(path, nginxParams({ HTTP_COOKIE: cookieHeader }));
      const body = JSON.parse(r.body.toString());
      assert.deepEqual(body.signed, { user: 'alice', forged: false });
      assert.deepEqual(body.cookies, { plain: 'hello world', prefs: { theme: 'dark' }, bad: 'j:{oops' });
      assert.equal(body.secret, 'k1');
      assert.match(
        String(r.headers['set-cookie']),
        new RegExp(`^next=${encodeURIComponent(`s:${sign('bob', 'k1')}`)};`),
      );
    });
  });

  it('parses nothing until a helper is read, then once: the results become own data properties', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.set('cookie parser', true);
    app.use((req, res) => {
      const before = Object.hasOwn(req, 'cookies') || Object.hasOwn(req, 'signedCookies');
      const first = req.cookies;
      const own = Object.getOwnPropertyDescriptor(req, 'cookies');
      res.end(
        JSON.stringify({
          before,
          value: first.a,
          same: req.cookies === first,
          dataProperty: own !== undefined && 'value' in own,
          signedOwn: Object.hasOwn(req, 'signedCookies'),
        }),
      );
    });
    await serveApp(app, async (path) => {
      assert.deepEqual(await ask(path, { HTTP_COOKIE: 'a=1' }), {
        before: false,
        value: '1',
        same: true,
        dataProperty: true,
        signedOwn: true,
      });
    });
  });

  it('with neither setting, req.cookies is undefined as under Express; cookie-parser fills it', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.use('/parsed', cookieParser() as unknown as Middleware);
    app.use((req, res) => res.end(JSON.stringify({ cookies: req.cookies ?? null, signed: req.signedCookies ?? null })));
    await serveApp(app, async (path) => {
      assert.deepEqual(await ask(path, { HTTP_COOKIE: 'a=1' }), { cookies: null, signed: null });
      const parsed = await ask(path, { HTTP_COOKIE: 'a=1', REQUEST_URI: '/parsed/x', SCRIPT_NAME: '/parsed/x' });
      assert.deepEqual(parsed, { cookies: { a: '1' }, signed: {} });
    });
  });

  it("'cookie parser' false keeps the app's parsing off even with a 'cookie secret'", { timeout: 10_000 }, async () => {
    const app = cookieApp();
    app.set('cookie secret', 'k1');
    app.set('cookie parser', false);
    await serveApp(app, async (path) => {
      assert.deepEqual(await ask(path, { HTTP_COOKIE: cookieHeader }), { secret: 'k1' });
    });
  });

  it('cookie-parser works whatever it is called through (nothing looks at the caller)', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    const parser = cookieParser('k1') as unknown as Middleware;
    app.use((req, res, next) => parser(req, res, next));
    app.use((req, res) => res.end(JSON.stringify({ signed: req.signedCookies, secret: req.secret })));
    await serveApp(app, async (path) => {
      assert.deepEqual(await ask(path, { HTTP_COOKIE: cookieHeader }), {
        signed: { user: 'alice', forged: false },
        secret: 'k1',
      });
    });
  });

  it("with the app's parsing on, a cookie-parser after it finds req.cookies set and changes nothing", {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.set('cookie secret', 'k1');
    app.use(cookieParser('other') as unknown as Middleware);
    app.use((req, res) => res.end(JSON.stringify({ signed: req.signedCookies, secret: req.secret })));
    await serveApp(app, async (path) => {
      const r = await ask(path, { HTTP_COOKIE: cookieHeader });
      assert.deepEqual(r.signed, { user: 'alice', forged: false });
      assert.equal(r.secret, 'k1');
    });
  });
});

describe('app request: mounted apps and upgraded requests', () => {
  it('path and query are relative to the mount point; settings come from the parent app', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    const api = createApp();
    app.set('subdomain offset', 3);
    app.set('cookie secret', 'k1');
    api.use('/v1', (req, res) => {
      res.end(
        JSON.stringify({
          path: req.path,
          query: req.query,
          baseUrl: req.baseUrl,
          originalUrl: req.originalUrl,
          subdomains: req.subdomains,
          signed: req.signedCookies,
        }),
      );
    });
    app.use('/api', api);
    await serveApp(app, async (path) => {
      const uri = '/api/v1/users/7?sort=name&tag=a&tag=b';
      const r = await ask(path, {
        REQUEST_URI: uri,
        SCRIPT_NAME: '/api/v1/users/7',
        QUERY_STRING: 'sort=name&tag=a&tag=b',
        HTTP_HOST: 'tobi.ferrets.example.com',
        HTTP_COOKIE: cookieHeader,
      });
      assert.deepEqual(r, {
        path: '/users/7',
        query: { sort: 'name', tag: ['a', 'b'] },
        baseUrl: '/api/v1',
        originalUrl: uri,
        subdomains: ['tobi'],
        signed: { user: 'alice', forged: false },
      });
    });
  });

  it("a mounted app inherits 'trust proxy' from its parent, as in Express", {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    const sub = createApp();
    app.set('trust proxy', 'loopback');
    sub.use((req, res) => res.end(JSON.stringify({ ip: req.ip })));
    app.use('/sub', sub);
    await serveApp(app, async (path) => {
      const r = await ask(path, { REQUEST_URI: '/sub/x', SCRIPT_NAME: '/sub/x', HTTP_X_FORWARDED_FOR: '198.51.100.4' });
      assert.equal(r.ip, '198.51.100.4');
    });
  });

  it('works on a core request upgraded in place by the app', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.set('trust proxy', 'loopback');
    app.set('cookie parser', true);
    app.use((req, res) => {
      res.end(
        JSON.stringify({
          ip: req.ip,
          protocol: req.protocol,
          cookies: req.cookies,
          type: req.accepts('json', 'html'),
          upgraded: req instanceof AppRequest,
        }),
      );
    });
    let wasPlain = false;
    // A plain handler: the server makes core requests, and the app upgrades them.
    const handler: Handler = (req, res) => {
      wasPlain = !(req instanceof AppRequest);
      app(req, res);
    };
    await serveApp(handler, async (path) => {
      const r = await ask(path, {
        HTTP_COOKIE: 'a=1',
        HTTP_ACCEPT: 'application/json',
        HTTP_X_FORWARDED_FOR: '198.51.100.4',
        HTTP_X_FORWARDED_PROTO: 'https',
      });
      assert.equal(wasPlain, true);
      assert.deepEqual(r, { ip: '198.51.100.4', protocol: 'https', cookies: { a: '1' }, type: 'json', upgraded: true });
    });
  });
});
