// The FastCGI client against Go's net/http/fcgi (Debian's golang-go, standard library only).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FcgiClient } from '@fcgi/core';
import { goSkip, startGoFcgi, type GoFcgi } from './helpers/go-fcgi.js';

function parseLines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function params(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REQUEST_METHOD: 'GET',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_URI: '/go/path?x=1',
    QUERY_STRING: 'x=1',
    SCRIPT_NAME: '/go/path',
    HTTP_HOST: 'localhost',
    REMOTE_ADDR: '127.0.0.1',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    ...extra,
  };
}

describe('client against Go net/http/fcgi', { skip: goSkip() }, () => {
  let app: GoFcgi;
  let client: FcgiClient;

  before(
    async () => {
      app = await startGoFcgi(120_000);
      client = new FcgiClient({ target: app.socket, timeout: 10_000 });
    },
    { timeout: 150_000 },
  );

  after(
    async () => {
      await client?.close();
      await app?.stop();
    },
    { timeout: 10_000 },
  );

  test('GET: params reach the Go handler; its status, header and two cookies come back', {
    timeout: 10_000,
  }, async () => {
    const res = await client.request({ params: params({ HTTP_X_CUSTOM: 'from-node', EXTRA_PARAM: 'extra' }) });
    assert.equal(res.status, 202, app.output());
    assert.equal(res.statusText, 'Accepted');
    assert.equal(res.headers['x-go-handler'], 'net/http/fcgi');
    assert.deepEqual(res.headers['set-cookie'], ['g1=1', 'g2=2']);
    const got = parseLines(await res.text());
    assert.equal(got.method, 'GET');
    assert.equal(got.uri, '/go/path?x=1');
    assert.equal(got.query, 'x=1');
    assert.equal(got.header, 'from-node');
    assert.equal(got.param, 'extra');
    assert.equal(got.len, '0');
    assert.equal((await res.done).protocolStatus, 0);
  });

  test('POST: a 1 MB Buffer and a 1 MB stream arrive whole (length and md5 from Go)', { timeout: 15_000 }, async () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13) % 256;
    const md5 = createHash('md5').update(body).digest('hex');
    const post = params({ REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/octet-stream' });
    const got = parseLines(await (await client.request({ params: post, body })).text());
    assert.equal(got.method, 'POST');
    assert.equal(got.len, String(body.length));
    assert.equal(got.md5, md5);

    const stream = Readable.from(
      (function* () {
        for (let at = 0; at < body.length; at += 40_000) yield body.subarray(at, at + 40_000);
      })(),
    );
    const got2 = parseLines(
      await (await client.request({ params: { ...post, CONTENT_LENGTH: String(body.length) }, body: stream })).text(),
    );
    assert.equal(got2.len, String(body.length));
    assert.equal(got2.md5, md5);
  });

  test('kept connections: 10 sequential requests over one connection', { timeout: 10_000 }, async () => {
    const seq = new FcgiClient({ target: app.socket });
    try {
      for (let i = 0; i < 10; i++) {
        const got = parseLines(await (await seq.request({ params: params({ REQUEST_URI: `/n/${i}` }) })).text());
        assert.equal(got.uri, `/n/${i}`);
      }
      assert.deepEqual(seq.stats, { idle: 1, busy: 0, connecting: 0, queued: 0 });
    } finally {
      await seq.close();
    }
  });
});
