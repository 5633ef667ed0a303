// json(), urlencoded(), text() and raw() as app middleware over real FastCGI: parsed bodies, every
// error status, Content-Encoding, and bodies left untouched when no parser applies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createApp, createFcgiServer, json, raw, text, urlencoded, type FcgiServer } from '@fcgi/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeAbortRequest,
  encodeBeginRequest,
  encodeNameValues,
  encodeStream,
  RecordType,
} from '@fcgi/core/protocol';
import { RawClient } from './helpers/raw-client.js';
import { nginxParams, request } from './helpers/http-harness.js';

const T = { timeout: 15_000 };

/** Error types the error middleware saw, in order. */
const seenErrors: string[] = [];

function buildApp() {
  const app = createApp();
  app.use('/json', json());
  app.use('/json-lax', json({ strict: false, reviver: (k: string, v: unknown) => (k === 'n' ? Number(v) * 2 : v) }));
  app.use('/json-small', json({ limit: '1kb' }));
  app.use('/json-plain', json({ inflate: false }));
  app.use('/json-api', json({ type: ['+json', 'application/csp-report'] }));
  app.use(
    '/verify',
    json({
      verify: (_req, _res, buf, encoding) => {
        if (buf.includes('forbidden')) throw new Error(`rejected ${encoding} body`);
      },
    }),
  );
  app.use('/form', urlencoded());
  app.use('/ext', urlencoded({ extended: true, parameterLimit: 10, depth: 3 }));
  app.use('/text', text());
  app.use('/text-latin1', text({ defaultCharset: 'latin1', type: 'text/*' }));
  app.use('/raw', raw({ limit: '2mb' }));
  // All parsers in a row, then a handler that reads the stream itself.
  app.use('/stream', json(), urlencoded(), text(), raw(), async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    res.end(JSON.stringify({ bodyDefined: req.body !== undefined, read: Buffer.concat(chunks).toString('hex') }));
  });
  app.use((req, res) => {
    const body = req.body;
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        kind: Buffer.isBuffer(body) ? 'buffer' : body === undefined ? 'undefined' : typeof body,
        body: Buffer.isBuffer(body) ? body.toString('hex') : body,
        // Checked in the server process itself: a polluted prototype shows here.
        polluted: ({} as Record<string, unknown>).x !== undefined || ({} as Record<string, unknown>).y !== undefined,
        proto:
          body && typeof body === 'object' && !Buffer.isBuffer(body) && !Array.isArray(body)
            ? Object.getPrototypeOf(body) === null
              ? 'null'
              : 'object'
            : null,
      }),
    );
  });
  app.use((err: any, _req: unknown, res: any, _next: unknown) => {
    seenErrors.push(err.type);
    res.statusCode = err.status ?? 500;
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({ status: err.status, type: err.type, message: err.message, syntax: err instanceof SyntaxError }),
    );
  });
  return app;
}

describe('body parsers over FastCGI', () => {
  let server: FcgiServer;
  let dir: string;
  let sock: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-body-'));
    sock = join(dir, 'app.sock');
    server = createFcgiServer(buildApp(), { onConnectionError: () => {} });
    await server.listenOn({ kind: 'unix', path: sock });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function post(
    uri: string,
    type: string | undefined,
    body: Buffer | string,
    extra: Record<string, string | undefined> = {},
  ) {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const r = await request(
      sock,
      nginxParams({
        REQUEST_METHOD: 'POST',
        REQUEST_URI: uri,
        SCRIPT_NAME: uri,
        CONTENT_TYPE: type ?? '',
        CONTENT_LENGTH: String(buf.length),
        ...extra,
      }),
      buf,
    );
    return { status: r.status, json: JSON.parse(r.body.toString()) };
  }

  it('json(): objects, unicode, utf-16, empty body, types, strict off with a reviver', T, async () => {
    let r = await post('/json', 'application/json', JSON.stringify({ a: [1, 'ü'], b: null }));
    assert.deepEqual(r, {
      status: 200,
      json: { kind: 'object', body: { a: [1, 'ü'], b: null }, polluted: false, proto: 'object' },
    });
    r = await post('/json', 'application/json; charset=utf-16le', Buffer.from('{"s":"日本"}', 'utf16le'));
    assert.deepEqual(r.json.body, { s: '日本' });
    r = await post('/json', 'application/json', '');
    assert.deepEqual(r.json.body, {});
    // Not the default type: body untouched, req.body stays undefined (Express 5).
    r = await post('/json', 'application/vnd.api+json', '{"a":1}');
    assert.equal(r.json.kind, 'undefined');
    r = await post('/json-api', 'application/vnd.api+json', '{"a":1}');
    assert.deepEqual(r.json.body, { a: 1 });
    r = await post('/json-lax', 'application/json', '"just a string"');
    assert.equal(r.json.body, 'just a string');
    r = await post('/json-lax', 'application/json', '{"n":"21"}');
    assert.deepEqual(r.json.body, { n: 42 });
  });

  it(
    'json(): malformed and non-strict bodies are 400 entity.parse.failed SyntaxErrors with a clear message',
    T,
    async () => {
      let r = await post('/json', 'application/json', '{"a": 1,}');
      assert.equal(r.status, 400);
      assert.equal(r.json.type, 'entity.parse.failed');
      assert.equal(r.json.syntax, true);
      assert.match(r.json.message, /^Invalid JSON body: /);
      r = await post('/json', 'application/json', '  true');
      assert.equal(r.status, 400);
      assert.match(r.json.message, /must be an object or an array \(strict mode\)/);
    },
  );

  it('413 entity.too.large: from CONTENT_LENGTH up front, and while inflating', T, async () => {
    let r = await post('/json-small', 'application/json', JSON.stringify({ pad: 'x'.repeat(2000) }));
    assert.equal(r.status, 413);
    assert.equal(r.json.type, 'entity.too.large');
    // 2 MB of JSON that gzips to a few kB: the limit is on the inflated size.
    const bomb = gzipSync(JSON.stringify({ pad: ' '.repeat(2_000_000) }));
    assert.ok(bomb.length < 1024 * 10);
    r = await post('/json', 'application/json', bomb, { HTTP_CONTENT_ENCODING: 'gzip' });
    assert.equal(r.status, 413);
    assert.equal(r.json.type, 'entity.too.large');
    // Just under the limit passes.
    r = await post('/json-small', 'application/json', JSON.stringify({ pad: 'x'.repeat(1000) }));
    assert.equal(r.status, 200);
  });

  it('gzip, deflate and br bodies are inflated; unknown encodings and inflate:false are 415', T, async () => {
    const doc = JSON.stringify({ zipped: 'yes', list: [1, 2, 3] });
    for (const [enc, data] of [
      ['gzip', gzipSync(doc)],
      ['deflate', deflateSync(doc)],
      ['br', brotliCompressSync(doc)],
    ] as const) {
      const r = await post('/json', 'application/json', data, { HTTP_CONTENT_ENCODING: enc });
      assert.deepEqual(r.json.body, { zipped: 'yes', list: [1, 2, 3] }, enc);
    }
    let r = await post('/json', 'application/json', gzipSync(doc).subarray(0, 20), { HTTP_CONTENT_ENCODING: 'gzip' });
    assert.equal(r.status, 400);
    r = await post('/json', 'application/json', doc, { HTTP_CONTENT_ENCODING: 'compress' });
    assert.equal(r.status, 415);
    assert.equal(r.json.type, 'encoding.unsupported');
    r = await post('/json-plain', 'application/json', gzipSync(doc), { HTTP_CONTENT_ENCODING: 'gzip' });
    assert.equal(r.status, 415);
    assert.equal(r.json.type, 'encoding.unsupported');
  });

  it('415 charset.unsupported: json in latin1, text in an unknown charset', T, async () => {
    let r = await post('/json', 'application/json; charset=iso-8859-1', '{}');
    assert.equal(r.status, 415);
    assert.equal(r.json.type, 'charset.unsupported');
    assert.match(r.json.message, /ISO-8859-1/);
    r = await post('/text', 'text/plain; charset=klingon', 'x');
    assert.equal(r.status, 415);
    assert.equal(r.json.type, 'charset.unsupported');
  });

  it('400 request.size.invalid when the body is shorter or longer than CONTENT_LENGTH', T, async () => {
    let r = await post('/json', 'application/json', '{"a":1}', { CONTENT_LENGTH: '50' });
    assert.equal(r.status, 400);
    assert.equal(r.json.type, 'request.size.invalid');
    r = await post('/text', 'text/plain', 'x'.repeat(100), { CONTENT_LENGTH: '10' });
    assert.equal(r.status, 400);
    assert.equal(r.json.type, 'request.size.invalid');
    // The check is on the bytes received, compressed or not.
    const gz = gzipSync('{"a":1}');
    for (const len of [gz.length + 3, gz.length - 3]) {
      r = await post('/json', 'application/json', gz, { HTTP_CONTENT_ENCODING: 'gzip', CONTENT_LENGTH: String(len) });
      assert.equal(r.status, 400);
      assert.equal(r.json.type, 'request.size.invalid');
    }
  });

  it('verify() sees the raw bytes; a throw is a 403', T, async () => {
    let r = await post('/verify', 'application/json', '{"ok":true}');
    assert.deepEqual(r.json.body, { ok: true });
    r = await post('/verify', 'application/json', '{"forbidden":true}');
    assert.equal(r.status, 403);
    assert.equal(r.json.type, 'entity.verify.failed');
    assert.equal(r.json.message, 'rejected utf-8 body');
  });

  it('urlencoded(): flat with node:querystring, nested with extended, latin1, limits', T, async () => {
    const FORM = 'application/x-www-form-urlencoded';
    let r = await post('/form', FORM, 'a=1&a=2&b=x+y%21&c[d]=3');
    assert.deepEqual(r.json.body, { a: ['1', '2'], b: 'x y!', 'c[d]': '3' });
    assert.equal(r.json.proto, 'null');
    r = await post('/ext', FORM, 'user[name]=Ann&user[tags][]=a&user[tags][]=b&list[0]=x&list[2]=y');
    assert.deepEqual(r.json.body, { user: { name: 'Ann', tags: ['a', 'b'] }, list: ['x', 'y'] });
    r = await post('/form', `${FORM}; charset=iso-8859-1`, 'name=Gr%FC%DFe');
    assert.deepEqual(r.json.body, { name: 'Grüße' });
    r = await post('/ext', FORM, Array.from({ length: 11 }, (_, i) => `p${i}=1`).join('&'));
    assert.equal(r.status, 413);
    assert.equal(r.json.type, 'parameters.too.many');
    r = await post('/ext', FORM, 'a[b][c][d][e]=1');
    assert.equal(r.status, 400);
    assert.equal(r.json.type, 'querystring.parse.rangeError');
    r = await post('/form', `${FORM}; charset=utf-16le`, 'a=1');
    assert.equal(r.status, 415);
  });

  it('prototype pollution attempts through JSON and extended urlencoded change nothing', T, async () => {
    let r = await post('/json', 'application/json', '{"__proto__":{"x":1},"constructor":{"prototype":{"y":1}}}');
    assert.equal(r.status, 200);
    assert.equal(r.json.polluted, false);
    r = await post(
      '/ext',
      'application/x-www-form-urlencoded',
      '__proto__[x]=1&constructor[prototype][y]=1&a[__proto__][x]=1',
    );
    assert.equal(r.status, 200);
    assert.equal(r.json.polluted, false);
    assert.deepEqual(r.json.body, { constructor: { prototype: { y: '1' } } });
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('text() and raw(): strings in their charset, Buffers', T, async () => {
    let r = await post('/text', 'text/plain', 'grüße\r\n');
    assert.equal(r.json.body, 'grüße\r\n');
    r = await post('/text', 'text/plain; charset=utf-16le', Buffer.from('ok ✓', 'utf16le'));
    assert.equal(r.json.body, 'ok ✓');
    r = await post('/text-latin1', 'text/csv', Buffer.from([0x47, 0x72, 0xfc, 0xdf]));
    assert.equal(r.json.body, 'Grüß');
    const bin = Buffer.alloc(1_500_000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 31) & 0xff;
    r = await post('/raw', 'application/octet-stream', bin);
    assert.equal(r.json.kind, 'buffer');
    assert.equal(r.json.body, bin.toString('hex'));
  });

  it('when no parser applies the stream is untouched: a later handler reads the whole body itself', T, async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    let r = await post('/stream', 'image/png', png);
    assert.deepEqual(r.json, { bodyDefined: false, read: png.toString('hex') });
    // No CONTENT_TYPE at all.
    r = await post('/stream', undefined, png);
    assert.deepEqual(r.json, { bodyDefined: false, read: png.toString('hex') });
    // A GET without a body (nginx sends CONTENT_LENGTH empty): nothing parsed, empty stream.
    const g = await request(
      sock,
      nginxParams({ REQUEST_URI: '/stream', SCRIPT_NAME: '/stream', CONTENT_TYPE: 'application/json' }),
    );
    assert.deepEqual(JSON.parse(g.body.toString()), { bodyDefined: false, read: '' });
    // The first parser that applies takes the body; the others step aside.
    r = await post('/stream', 'text/plain', 'hi');
    assert.deepEqual(r.json, { bodyDefined: true, read: '' });
  });

  it('a request aborted mid-body is a 400 request.aborted, and the server serves on', T, async () => {
    seenErrors.length = 0;
    const client = await RawClient.connect(sock);
    try {
      client.write(encodeBeginRequest(1, 1, false));
      client.write(
        encodeStream(
          RecordType.PARAMS,
          1,
          encodeNameValues(
            nginxParams({
              REQUEST_METHOD: 'POST',
              REQUEST_URI: '/json',
              SCRIPT_NAME: '/json',
              CONTENT_TYPE: 'application/json',
              CONTENT_LENGTH: '5000',
            }),
          ),
        ),
      );
      client.write(encodeStream(RecordType.STDIN, 1, Buffer.from('{"partial": "'), false));
      await new Promise((res) => setTimeout(res, 50));
      client.write(encodeAbortRequest(1));
      await client.reply(1, 5000);
    } finally {
      client.close();
    }
    for (let i = 0; i < 50 && seenErrors.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.deepEqual(seenErrors, ['request.aborted']);
    const r = await post('/json', 'application/json', '{"still":"alive"}');
    assert.deepEqual(r.json.body, { still: 'alive' });
  });
});
