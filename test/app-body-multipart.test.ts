// multipart() and parseMultipart() over real FastCGI: fields and files in memory and on disk,
// temp files removed after the response, limits, malformed bodies, a 20 MB upload streamed to
// disk in bounded memory, and a handler streaming parts itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createApp, createFcgiServer, multipart, parseMultipart, type FcgiServer, type UploadedFile } from '@fcgi/core';
import {
  RecordType,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import { RawClient } from './helpers/raw-client.js';
import { nginxParams, request, splitCgi } from './helpers/http-harness.js';

const T = { timeout: 30_000 };
const B = '----fcgiFormBoundary7MA4YWxkTrZu0gW';

function form(parts: { name: string; filename?: string; type?: string; data: string | Buffer }[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    let head = `--${B}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    out.push(Buffer.from(head + '\r\n'), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(out);
}

/** Waits (up to 2 s) for `dir` to be empty: temp dirs are removed asynchronously after the response. */
async function emptied(dir: string): Promise<void> {
  for (let i = 0; i < 100 && (await readdir(dir)).length > 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(await readdir(dir), [], 'every per-request temp dir was removed');
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('multipart over FastCGI', () => {
  let server: FcgiServer;
  let dir: string;
  let sock: string;
  let uploads: string;
  /** Paths the disk handler saw, to check they are gone afterwards. */
  const seenPaths: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-mp-'));
    uploads = join(dir, 'uploads');
    await (await import('node:fs/promises')).mkdir(uploads);
    sock = join(dir, 'app.sock');
    const app = createApp();
    app.use('/mem', multipart({ limits: { fileSize: 1000, files: 2, fieldSize: 100 } }));
    app.use('/disk', multipart({ storage: 'disk', dest: uploads }));
    app.use('/disk', (req, res) => {
      const files = (req.files ?? []).map((f: UploadedFile) => {
        seenPaths.push(f.path!);
        // Read in the handler: the file is there while the request runs.
        const data = readFileSync(f.path!);
        return {
          fieldname: f.fieldname,
          originalname: f.originalname,
          size: f.size,
          sha: sha(data),
          inDest: f.path!.startsWith(uploads),
        };
      });
      res.end(JSON.stringify({ body: req.body, files, rss: process.memoryUsage().rss }));
    });
    app.use('/stream', async (req, res) => {
      const seen: { name: string; filename?: string; type: string; bytes: number; sha: string }[] = [];
      for await (const part of parseMultipart(req)) {
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const c of part.stream) {
          bytes += (c as Buffer).length;
          hash.update(c as Buffer);
        }
        seen.push({
          name: part.name,
          ...(part.filename === undefined ? {} : { filename: part.filename }),
          type: part.contentType,
          bytes,
          sha: hash.digest('hex'),
        });
      }
      res.end(JSON.stringify(seen));
    });
    app.use('/late', multipart(), async (req, res) => {
      // Not multipart: the middleware stepped aside and the body is still readable here.
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      res.end(JSON.stringify({ bodyDefined: req.body !== undefined, text: Buffer.concat(chunks).toString() }));
    });
    app.use((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      const files = (req.files ?? []).map((f: UploadedFile) => ({ ...f, buffer: f.buffer?.toString() }));
      res.end(
        JSON.stringify({ body: req.body, proto: req.body ? Object.getPrototypeOf(req.body) === null : null, files }),
      );
    });
    app.use((err: any, _req: unknown, res: any, _next: unknown) => {
      res.statusCode = err.status ?? 500;
      res.end(JSON.stringify({ status: err.status, type: err.type, code: err.code, message: err.message }));
    });
    server = createFcgiServer(app, { onConnectionError: () => {} });
    await server.listenOn({ kind: 'unix', path: sock });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function post(
    uri: string,
    body: Buffer,
    type = `multipart/form-data; boundary=${B}`,
    extra: Record<string, string> = {},
  ) {
    const r = await request(
      sock,
      nginxParams({
        REQUEST_METHOD: 'POST',
        REQUEST_URI: uri,
        SCRIPT_NAME: uri,
        CONTENT_TYPE: type,
        CONTENT_LENGTH: String(body.length),
        ...extra,
      }),
      body,
      20_000,
    );
    return { status: r.status, json: JSON.parse(r.body.toString()) };
  }

  it('memory storage: fields (repeated names as arrays) in req.body, files as Buffers in req.files', T, async () => {
    const r = await post(
      '/mem',
      form([
        { name: 'title', data: 'Grüße' },
        { name: 'tag', data: 'a' },
        { name: 'tag', data: 'b' },
        { name: '__proto__', data: 'dropped' },
        { name: 'doc', filename: 'notes.txt', type: 'text/plain', data: 'line 1\r\nline 2' },
        { name: 'blob', filename: 'x.bin', data: 'raw' },
      ]),
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.body, { title: 'Grüße', tag: ['a', 'b'] });
    assert.equal(r.json.proto, true);
    assert.deepEqual(r.json.files, [
      {
        fieldname: 'doc',
        originalname: 'notes.txt',
        encoding: '7bit',
        mimetype: 'text/plain',
        size: 14,
        buffer: 'line 1\r\nline 2',
      },
      {
        fieldname: 'blob',
        originalname: 'x.bin',
        encoding: '7bit',
        mimetype: 'application/octet-stream',
        size: 3,
        buffer: 'raw',
      },
    ]);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('limits answer 413 with a clear message; malformed bodies 400', T, async () => {
    let r = await post('/mem', form([{ name: 'f', filename: 'big.bin', data: Buffer.alloc(5000) }]));
    assert.equal(r.status, 413);
    assert.equal(r.json.code, 'LIMIT_FILE_SIZE');
    assert.match(r.json.message, /file "big.bin" in field "f" is larger than 1000 bytes/);
    r = await post('/mem', form([1, 2, 3].map((i) => ({ name: `f${i}`, filename: `${i}.txt`, data: 'x' }))));
    assert.equal(r.status, 413);
    assert.equal(r.json.code, 'LIMIT_FILE_COUNT');
    r = await post('/mem', form([{ name: 'long', data: 'y'.repeat(101) }]));
    assert.equal(r.status, 413);
    assert.equal(r.json.code, 'LIMIT_FIELD_VALUE');
    const good = form([{ name: 'a', data: '1' }]);
    r = await post('/mem', good.subarray(0, good.length - 8));
    assert.equal(r.status, 400);
    assert.match(r.json.message, /malformed multipart body/);
    r = await post('/mem', good, 'multipart/form-data');
    assert.equal(r.status, 400);
    assert.match(r.json.message, /boundary/);
    r = await post('/mem', Buffer.from(`--${B}\r\nContent-Disposition form-data\r\n\r\nx\r\n--${B}--`));
    assert.equal(r.status, 400);
  });

  it('disk storage: files are in a temp dir while the request runs and removed after the response', T, async () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    const r = await post(
      '/disk',
      form([
        { name: 'note', data: 'hi' },
        { name: 'up', filename: 'data.bin', data },
      ]),
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.body, { note: 'hi' });
    assert.deepEqual(r.json.files, [
      { fieldname: 'up', originalname: 'data.bin', size: data.length, sha: sha(data), inDest: true },
    ]);
    const path = seenPaths.at(-1)!;
    await emptied(uploads);
    assert.equal(existsSync(path), false, 'the upload was removed');
  });

  it('a 20 MB file streams to disk while the process memory stays far below 20 MB', { timeout: 60_000 }, async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const measure = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.external; // external includes arrayBuffers
    };
    const SIZE = 20 * 1024 * 1024;
    const CHUNK = 60_000;
    const head = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="big"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${B}--\r\n`);
    const piece = (n: number) => {
      const p = Buffer.alloc(Math.min(CHUNK, SIZE - n * CHUNK), n & 0xff);
      p.write(`\r\n--${B.slice(0, n % B.length)}`, 0, 'latin1');
      return p;
    };
    const pieces = Math.ceil(SIZE / CHUNK);
    const WARM = Math.floor(pieces / 4);
    // The expected digest first: hashing has a one-off native memory cost that must not count.
    const hash = createHash('sha256');
    for (let n = 0; n < pieces; n++) hash.update(piece(n));
    const expected = hash.digest('hex');
    // Measured from a quarter of the upload on: by then the process's one-off native costs
    // (allocator pools, fs and socket first use) have levelled off, while a parser that buffered
    // the file would still grow by 15 MB.
    let baseline = 0;
    let peak = 0;
    const client = await RawClient.connect(sock);
    try {
      const params = nginxParams({
        REQUEST_METHOD: 'POST',
        REQUEST_URI: '/disk',
        SCRIPT_NAME: '/disk',
        CONTENT_TYPE: `multipart/form-data; boundary=${B}`,
        CONTENT_LENGTH: String(head.length + SIZE + tail.length),
      });
      client.write(encodeBeginRequest(1, 1, false));
      client.write(encodeStream(RecordType.PARAMS, 1, encodeNameValues(params)));
      const send = async (buf: Buffer) => {
        if (!client.socket.write(encodeStream(RecordType.STDIN, 1, buf, false))) {
          await new Promise((res) => client.socket.once('drain', res));
        }
      };
      await send(head);
      // Generated piece by piece, so the test itself never holds the file.
      for (let n = 0; n < pieces; n++) {
        await send(piece(n));
        if (n === WARM) baseline = measure();
        else if (n > WARM && n % 20 === 0) peak = Math.max(peak, measure() - baseline);
      }
      await send(tail);
      client.write(encodeRecord(RecordType.STDIN, 1));
      const reply = splitCgi((await client.reply(1, 50_000)).stdout);
      assert.equal(reply.status, 200, reply.body.toString());
      const got = JSON.parse(reply.body.toString());
      assert.deepEqual(
        got.files.map((f: any) => [f.size, f.sha]),
        [[SIZE, expected]],
      );
    } finally {
      client.close();
    }
    assert.ok(peak < 2.5 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MB during a 20 MB upload`);
    await emptied(uploads);
  });

  it('parseMultipart in a handler streams each part; non-multipart bodies pass multipart() untouched', T, async () => {
    const big = Buffer.alloc(700_000, 0x5a);
    const r = await post(
      '/stream',
      form([
        { name: 'a', data: 'one' },
        { name: 'f', filename: 'z.bin', type: 'image/x-z', data: big },
        { name: 'b', data: '' },
      ]),
    );
    assert.deepEqual(r.json, [
      { name: 'a', type: 'text/plain', bytes: 3, sha: sha(Buffer.from('one')) },
      { name: 'f', filename: 'z.bin', type: 'image/x-z', bytes: big.length, sha: sha(big) },
      { name: 'b', type: 'text/plain', bytes: 0, sha: sha(Buffer.alloc(0)) },
    ]);
    const late = await post('/late', Buffer.from('plain text body'), 'text/plain');
    assert.deepEqual(late.json, { bodyDefined: false, text: 'plain text body' });
  });

  it('an upload aborted mid-file leaves no temp files behind', T, async () => {
    await emptied(uploads);
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
              REQUEST_URI: '/disk',
              SCRIPT_NAME: '/disk',
              CONTENT_TYPE: `multipart/form-data; boundary=${B}`,
              CONTENT_LENGTH: '10000000',
            }),
          ),
        ),
      );
      client.write(
        encodeStream(
          RecordType.STDIN,
          1,
          Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n`),
          false,
        ),
      );
      client.write(encodeStream(RecordType.STDIN, 1, Buffer.alloc(200_000, 1), false));
      // Wait until the upload is being written.
      for (let i = 0; i < 100 && (await readdir(uploads)).length === 0; i++)
        await new Promise((res) => setTimeout(res, 10));
      assert.equal((await readdir(uploads)).length, 1, 'a temp dir exists while the upload runs');
      client.write(encodeAbortRequest(1));
      await client.reply(1, 5000);
    } finally {
      client.close();
    }
    await emptied(uploads);
    const r = await post('/mem', form([{ name: 'after', data: 'ok' }]));
    assert.deepEqual(r.json.body, { after: 'ok' });
  });
});
