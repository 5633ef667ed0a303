// Express-style request helpers on real FastCGI requests (raw client, params as nginx sends them):
// get/is/xhr, negotiation, host/protocol/subdomains, ip with 'trust proxy', fresh, cookies, mounts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type AppRequest, createApp, type App, type AppResponse, type Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

/** An app whose one middleware answers with JSON of what `probe` reads from the request. */
function probeApp(probe: (req: AppRequest, res: AppResponse) => unknown): App {
  const app = createApp();
  app.use((req, res) => {
    const out = JSON.stringify(probe(req, res));
    res.setHeader('Content-Type', 'application/json');
    res.end(out);
  });
  return app;
}

async function ask(path: string, extra: Record<string, string | undefined> = {}, body?: string): Promise<any> {
  const r = await request(path, nginxParams(extra), body === undefined ? undefined : Buffer.from(body));
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString());
}

function serveApp(app: App | Handler, fn: (path: string) => Promise<void>): Promise<void> {
  return withServer(app as unknown as Handler, ({ path }) => fn(path));
}

describe('app request: headers and body type', () => {
  it('get/header (Referer alias), xhr, is() with a body and null without', { timeout: 10_000 }, async () => {
    const app = probeApp((req) => {
      let thrown = '';
      try {
        req.get('');
      } catch (e) {
        thrown = (e as Error).name;
      }
      return {
        type: req.get('Content-Type'),
        referrer: req.get('Referrer'),
        referer: req.header('REFERER'),
        missing: req.get('X-None') ?? 'absent',
        thrown,
        xhr: req.xhr,
        json: req.is('json'),
        appStar: req.is('application/*'),
        suffix: req.is('+json'),
        html: req.is('html'),
        list: req.is(['html', 'json']),
        bare: req.is(),
      };
    });
    await serveApp(app, async (path) => {
      const post = await ask(
        path,
        {
          REQUEST_METHOD: 'POST',
          CONTENT_TYPE: 'application/json; charset=utf-8',
          CONTENT_LENGTH: '7',
          HTTP_REFERER: 'http://example.com/from',
          HTTP_X_REQUESTED_WITH: 'XMLHttpRequest',
        },
        '{"a":1}',
      );
      assert.deepEqual(post, {
        type: 'application/json; charset=utf-8',
        referrer: 'http://example.com/from',
        referer: 'http://example.com/from',
        missing: 'absent',
        thrown: 'TypeError',
        xhr: true,
        json: 'json',
        appStar: 'application/json',
        suffix: false,
        html: false,
        list: 'json',
        bare: 'application/json',
      });
      // nginx sends empty CONTENT_TYPE/CONTENT_LENGTH for a GET: no body, so is() is null.
      const get = await ask(path, {});
      assert.equal(get.json, null);
      assert.equal(get.xhr, false);
      const ld = await ask(
        path,
        { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/ld+json', CONTENT_LENGTH: '2' },
        '{}',
      );
      assert.equal(ld.suffix, 'application/ld+json');
    });
  });
});

describe('app request: negotiation', () => {
  it('accepts, acceptsEncodings, acceptsCharsets, acceptsLanguages from real headers', {
    timeout: 10_000,
  }, async () => {
    const app = probeApp((req) => ({
      type: req.accepts('html', 'json'),
      types: req.accepts(),
      none: req.accepts('png'),
      arr: req.accepts(['text', 'json']),
      enc: req.acceptsEncodings('deflate', 'gzip', 'br'),
      encs: req.acceptsEncodings(),
      noEnc: req.acceptsEncodings('zstd'),
      cs: req.acceptsCharsets('iso-8859-1', 'utf-8'),
      css: req.acceptsCharsets(),
      lang: req.acceptsLanguages('en', 'fr'),
      langs: req.acceptsLanguages(),
      noLang: req.acceptsLanguages('de'),
    }));
    await serveApp(app, async (path) => {
      const r = await ask(path, {
        HTTP_ACCEPT: 'text/html;q=0.9, application/json',
        HTTP_ACCEPT_ENCODING: 'gzip, br;q=0.5',
        HTTP_ACCEPT_CHARSET: 'utf-8, iso-8859-1;q=0.5',
        HTTP_ACCEPT_LANGUAGE: 'fr-CH, fr;q=0.9, en;q=0.8',
      });
      assert.deepEqual(r, {
        type: 'json',
        types: ['application/json', 'text/html'],
        none: false,
        arr: 'json',
        enc: 'gzip',
        encs: ['gzip', 'br', 'identity'],
        noEnc: false,
        cs: 'utf-8',
        css: ['utf-8', 'iso-8859-1'],
        lang: 'fr',
        langs: ['fr-CH', 'fr', 'en'],
        noLang: false,
      });
      // No Accept-* headers: the first type, any charset/language, identity only.
      const bare = await ask(path, {});
      assert.equal(bare.type, 'html');
      assert.equal(bare.enc, false);
      assert.equal(bare.cs, 'iso-8859-1');
      assert.equal(bare.lang, 'en');
    });
  });
});

describe('app request: host, protocol, subdomains', () => {
  it('reads Host, HTTPS and REQUEST_SCHEME; subdomain offset applies', { timeout: 10_000 }, async () => {
    const app = probeApp((req) => ({
      host: req.host,
      hostname: req.hostname,
      protocol: req.protocol,
      secure: req.secure,
      subdomains: req.subdomains,
    }));
    await serveApp(app, async (path) => {
      assert.deepEqual(await ask(path, { HTTP_HOST: 'tobi.ferrets.example.com:8080' }), {
        host: 'tobi.ferrets.example.com:8080',
        hostname: 'tobi.ferrets.example.com',
        protocol: 'http',
        secure: false,
        subdomains: ['ferrets', 'tobi'],
      });
      assert.equal((await ask(path, { HTTPS: 'on' })).protocol, 'https');
      assert.equal((await ask(path, { REQUEST_SCHEME: 'https' })).secure, true);
      const v6 = await ask(path, { HTTP_HOST: '[::1]:3000' });
      assert.deepEqual([v6.host, v6.hostname, v6.subdomains], ['[::1]:3000', '[::1]', []]);
      assert.deepEqual((await ask(path, { HTTP_HOST: '10.1.2.3' })).subdomains, []);
      const none = await ask(path, { HTTP_HOST: undefined });
      assert.deepEqual([none.host, none.hostname, none.subdomains], [undefined, undefined, []]);
      app.set('subdomain offset', 3);
      assert.deepEqual((await ask(path, { HTTP_HOST: 'tobi.ferrets.example.com' })).subdomains, ['tobi']);
      // X-Forwarded-* are ignored while the peer is not trusted.
      app.set('subdomain offset', 2);
      const spoof = await ask(path, {
        HTTP_HOST: 'a.example.com',
        HTTP_X_FORWARDED_HOST: 'evil.test',
        HTTP_X_FORWARDED_PROTO: 'https',
      });
      assert.deepEqual([spoof.hostname, spoof.protocol], ['a.example.com', 'http']);
    });
  });
});

describe('app request: ip and trust proxy', () => {
  it('walks X-Forwarded-For as far as the setting trusts', { timeout: 10_000 }, async () => {
    const app = probeApp((req) => ({ ip: req.ip, ips: req.ips, protocol: req.protocol, host: req.host }));
    const xff = { REMOTE_ADDR: '127.0.0.1', HTTP_X_FORWARDED_FOR: '203.0.113.9, 10.0.0.7' };
    const cases: [unknown, string, string[]][] = [
      [false, '127.0.0.1', []],
      [true, '203.0.113.9', ['203.0.113.9', '10.0.0.7']],
      [1, '10.0.0.7', ['10.0.0.7']],
      [2, '203.0.113.9', ['203.0.113.9', '10.0.0.7']],
      ['loopback', '10.0.0.7', ['10.0.0.7']],
      ['loopback, 10.0.0.0/8', '203.0.113.9', ['203.0.113.9', '10.0.0.7']],
      [['loopback', 'uniquelocal'], '203.0.113.9', ['203.0.113.9', '10.0.0.7']],
      ['::1', '127.0.0.1', []],
      [(addr: string, i: number) => addr === '127.0.0.1' && i === 0, '10.0.0.7', ['10.0.0.7']],
    ];
    await serveApp(app, async (path) => {
      for (const [trust, ip, ips] of cases) {
        app.set('trust proxy', trust);
        const r = await ask(path, xff);
        assert.deepEqual([r.ip, r.ips], [ip, ips], `trust proxy = ${String(trust)}`);
      }
      // IPv6 peers, and a peer outside the trusted ranges.
      app.set('trust proxy', 'loopback');
      assert.equal((await ask(path, { REMOTE_ADDR: '::1', HTTP_X_FORWARDED_FOR: '2001:db8::5' })).ip, '2001:db8::5');
      assert.equal(
        (await ask(path, { REMOTE_ADDR: '198.51.100.2', HTTP_X_FORWARDED_FOR: '1.2.3.4' })).ip,
        '198.51.100.2',
      );
      // Trusted peer: X-Forwarded-Proto and X-Forwarded-Host (first values) win.
      const fwd = await ask(path, {
        REMOTE_ADDR: '127.0.0.1',
        HTTP_HOST: 'internal:9000',
        HTTP_X_FORWARDED_PROTO: 'https, http',
        HTTP_X_FORWARDED_HOST: 'shop.example.com:8443, other',
      });
      assert.deepEqual([fwd.protocol, fwd.host], ['https', 'shop.example.com:8443']);
    });
  });
});

describe('app request: fresh and stale', () => {
  it('compares the request validators with the response ETag for GET/HEAD 2xx only', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use((req, res) => {
      res.setHeader('ETag', '"v1"');
      if (req.get('X-Status')) res.statusCode = Number(req.get('X-Status'));
      res.end(JSON.stringify({ fresh: req.fresh, stale: req.stale }));
    });
    await serveApp(app, async (path) => {
      assert.deepEqual(await ask(path, { HTTP_IF_NONE_MATCH: '"v1"' }), { fresh: true, stale: false });
      assert.deepEqual(await ask(path, { HTTP_IF_NONE_MATCH: 'W/"v1"' }), { fresh: true, stale: false });
      assert.deepEqual(await ask(path, { HTTP_IF_NONE_MATCH: '"v0"' }), { fresh: false, stale: true });
      assert.deepEqual(await ask(path, {}), { fresh: false, stale: true });
      assert.equal((await ask(path, { REQUEST_METHOD: 'POST', HTTP_IF_NONE_MATCH: '"v1"' })).fresh, false);
      const notFound = await request(path, nginxParams({ HTTP_IF_NONE_MATCH: '"v1"', HTTP_X_STATUS: '404' }));
      assert.equal(JSON.parse(notFound.body.toString()).fresh, false);
    });
  });
});
