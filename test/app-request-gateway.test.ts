// The request helpers behind the built-in HTTP gateway (a real HTTP client, the gateway sending
// REMOTE_ADDR=127.0.0.1 like a web server on the same host): 'trust proxy' and signed cookies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createApp, serve, type Serving } from '@fcgi/core';
import { sign } from '../packages/core/src/semantics/index.js';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      res.on('error', reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('app request behind the gateway', () => {
  const app = createApp();
  app.set('cookie secret', 'gateway-secret');
  app.use((req, res) => {
    res.end(
      JSON.stringify({
        ip: req.ip,
        ips: req.ips,
        protocol: req.protocol,
        secure: req.secure,
        host: req.host,
        hostname: req.hostname,
        remote: req.environ.REMOTE_ADDR,
        cookies: req.cookies,
        signed: req.signedCookies,
      }),
    );
  });
  let serving: Serving & { mode: 'gateway' };

  before(async () => {
    const s = await serve(app, { port: 0, announce: false });
    assert.equal(s.mode, 'gateway');
    serving = s as Serving & { mode: 'gateway' };
  });
  after(async () => {
    await serving?.close();
  });

  const forwarded = {
    'X-Forwarded-For': '203.0.113.50, 10.1.2.3',
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Host': 'shop.example.com:8443',
  };

  it('ignores X-Forwarded-* when the proxy is not trusted (the default)', { timeout: 10_000 }, async () => {
    app.set('trust proxy', false);
    const { status, json } = await get(`${serving.url}/`, forwarded);
    assert.equal(status, 200);
    const port = new URL(serving.url).port;
    assert.deepEqual(
      [json.remote, json.ip, json.ips, json.protocol, json.secure, json.host, json.hostname],
      ['127.0.0.1', '127.0.0.1', [], 'http', false, `127.0.0.1:${port}`, '127.0.0.1'],
    );
  });

  it("trusts the gateway's 127.0.0.1 with 'loopback', and stops at the first untrusted hop", {
    timeout: 10_000,
  }, async () => {
    app.set('trust proxy', 'loopback');
    const { json } = await get(`${serving.url}/`, forwarded);
    assert.deepEqual(
      [json.ip, json.ips, json.protocol, json.secure, json.host, json.hostname],
      ['10.1.2.3', ['10.1.2.3'], 'https', true, 'shop.example.com:8443', 'shop.example.com'],
    );
    app.set('trust proxy', 'loopback, uniquelocal');
    assert.deepEqual((await get(`${serving.url}/`, forwarded)).json.ips, ['203.0.113.50', '10.1.2.3']);
    app.set('trust proxy', 1);
    assert.equal((await get(`${serving.url}/`, forwarded)).json.ip, '10.1.2.3');
    app.set('trust proxy', (addr: string) => addr === '127.0.0.1' || addr.startsWith('10.'));
    assert.equal((await get(`${serving.url}/`, forwarded)).json.ip, '203.0.113.50');
  });

  it('verifies a cookie signed with sign() and gives false for a tampered one', { timeout: 10_000 }, async () => {
    const signed = `s:${sign('42', 'gateway-secret')}`;
    const tampered = `s:${sign('42', 'gateway-secret').replace(/^42/, '43')}`;
    const cookie = `sid=${encodeURIComponent(signed)}; bad=${encodeURIComponent(tampered)}; theme=dark`;
    const { json } = await get(`${serving.url}/`, { Cookie: cookie });
    assert.deepEqual(json.cookies, { theme: 'dark' });
    assert.deepEqual(json.signed, { sid: '42', bad: false });
  });
});
