// A whole Express 5 app mounted inside a createApp() app: Express's own helpers work inside, and our
// chain (with our req/res helpers) continues after it falls through.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { createApp, type Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

it('app.use(path, expressApp): Express handles its routes, ours resume after', { timeout: 15_000 }, async () => {
  const legacy = express();
  legacy.set('etag', 'strong');
  legacy.get('/hello', (req, res) => {
    res.json({ from: 'express', baseUrl: req.baseUrl, url: req.url, ip: req.ip });
  });
  const app = createApp();
  app.use('/legacy', legacy);
  app.use((req, res) => {
    // Our helpers again (res.json is ours: Express's prototype was taken back).
    res.json({ from: 'fcgi', url: req.url, originalUrl: req.originalUrl, hasSignedCookies: 'signedCookies' in req });
  });
  const uri = (u: string) => nginxParams({ REQUEST_URI: u, SCRIPT_NAME: u.split('?')[0] });
  await withServer(app as unknown as Handler, async ({ path }) => {
    const a = await request(path, uri('/legacy/hello'));
    assert.equal(a.status, 200);
    assert.deepEqual(JSON.parse(a.body.toString()), {
      from: 'express',
      baseUrl: '/legacy',
      url: '/hello',
      ip: '127.0.0.1',
    });
    assert.match(a.headers.etag as string, /^"/); // strong ETag: the sub-app's own setting
    const b = await request(path, uri('/legacy/other?x=1'));
    assert.deepEqual(JSON.parse(b.body.toString()), {
      from: 'fcgi',
      url: '/legacy/other?x=1',
      originalUrl: '/legacy/other?x=1',
      hasSignedCookies: true,
    });
  });
});
