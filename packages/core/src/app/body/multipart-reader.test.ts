// parseMultipart over a plain Readable: parts and their streams, skipping, limits, backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseMultipart, type MultipartLimits } from './multipart-reader.js';

const B = 'rEaDeR-bOuNdArY';
const T = { timeout: 20_000 };

function source(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, headers: Record<string, string> = {}) {
  return Object.assign(Readable.from(chunks, { objectMode: false }), {
    headers: { 'content-type': `multipart/form-data; boundary=${B}`, ...headers },
  });
}

function form(parts: { disposition?: string; type?: string; data: string | Buffer }[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    let head = `--${B}\r\n`;
    if (p.disposition) head += `Content-Disposition: ${p.disposition}\r\n`;
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    out.push(Buffer.from(head + '\r\n'), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(out);
}

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

async function all(req: ReturnType<typeof source>, limits?: MultipartLimits) {
  const out: { name: string; filename: string | undefined; contentType: string; data: string }[] = [];
  for await (const part of parseMultipart(req, limits)) {
    out.push({
      name: part.name,
      filename: part.filename,
      contentType: part.contentType,
      data: await collect(part.stream),
    });
  }
  return out;
}

const SAMPLE = form([
  { disposition: 'form-data; name="title"', data: 'Hello' },
  { disposition: 'form-data; name="doc"; filename="../../etc/a.txt"', type: 'text/markdown', data: '# Doc\r\nbody' },
  { disposition: 'attachment; filename="not-a-field"', data: 'skipped' },
  { disposition: 'form-data; name="bin"; filename="b.bin"', data: Buffer.from([0, 1, 2]) },
]);

test('yields fields and files with names, types and bytes; non-form-data parts are skipped', T, async () => {
  // Chunks of 7 bytes so parts span chunks.
  const chunks = [];
  for (let i = 0; i < SAMPLE.length; i += 7) chunks.push(SAMPLE.subarray(i, i + 7));
  assert.deepEqual(await all(source(chunks)), [
    { name: 'title', filename: undefined, contentType: 'text/plain', data: 'Hello' },
    { name: 'doc', filename: 'a.txt', contentType: 'text/markdown', data: '# Doc\r\nbody' },
    { name: 'bin', filename: 'b.bin', contentType: 'application/octet-stream', data: '\0\x01\x02' },
  ]);
});

test('a part left unread is discarded and the next one still arrives', T, async () => {
  const names: string[] = [];
  let last = '';
  for await (const part of parseMultipart(source([SAMPLE]))) {
    names.push(part.name);
    if (part.name === 'bin') last = await collect(part.stream);
  }
  assert.deepEqual(names, ['title', 'doc', 'bin']);
  assert.equal(last, '\0\x01\x02');
});

test('limits give 413 errors with multer-style codes', T, async () => {
  const cases: [MultipartLimits, string][] = [
    [{ fileSize: 5 }, 'LIMIT_FILE_SIZE'],
    [{ files: 1 }, 'LIMIT_FILE_COUNT'],
    [{ fields: 0 }, 'LIMIT_FIELD_COUNT'],
    [{ fieldSize: 4 }, 'LIMIT_FIELD_VALUE'],
    [{ parts: 2 }, 'LIMIT_PART_COUNT'],
    [{ headerSize: 20 }, 'LIMIT_HEADER_SIZE'],
  ];
  for (const [limits, code] of cases) {
    await assert.rejects(all(source([SAMPLE]), limits), (err: any) => {
      assert.equal(err.status, 413, code);
      assert.equal(err.code, code);
      assert.equal(err.expose, true);
      return true;
    });
  }
  // At the limits exactly, all is well.
  assert.equal(
    (await all(source([SAMPLE]), { fileSize: 11, files: 2, fields: 1, fieldSize: 5, parts: 4, headerSize: 100 }))
      .length,
    3,
  );
});

test('a file over fileSize errors its stream too, not just the iterator', T, async () => {
  const body = form([{ disposition: 'form-data; name="f"; filename="big"', data: Buffer.alloc(300_000, 7) }]);
  const chunks = [];
  for (let i = 0; i < body.length; i += 16_384) chunks.push(body.subarray(i, i + 16_384));
  let streamErr: any = null;
  await assert.rejects(
    (async () => {
      for await (const part of parseMultipart(source(chunks), { fileSize: 100_000 })) {
        try {
          await collect(part.stream);
        } catch (err) {
          streamErr = err;
        }
      }
    })(),
    { status: 413, code: 'LIMIT_FILE_SIZE' },
  );
  assert.equal(streamErr?.code, 'LIMIT_FILE_SIZE');
});

test('wrong type, missing boundary, truncated body and a failing source', T, async () => {
  await assert.rejects(all(source([SAMPLE], { 'content-type': 'application/json' })), { status: 415 });
  await assert.rejects(all(source([SAMPLE], { 'content-type': 'multipart/form-data' })), {
    status: 400,
    message: /boundary/,
  });
  await assert.rejects(all(source([SAMPLE.subarray(0, SAMPLE.length - 10)])), {
    status: 400,
    message: /close delimiter/,
  });
  await assert.rejects(all(source([SAMPLE], { 'content-length': String(SAMPLE.length + 5) })), {
    status: 400,
    type: 'request.size.invalid',
  });
  const failing = source(
    (async function* () {
      yield SAMPLE.subarray(0, 50);
      throw new Error('connection lost');
    })(),
  );
  await assert.rejects(all(failing), { status: 400, type: 'request.aborted' });
});

test('backpressure: a slow consumer keeps the source from being read far ahead', T, async () => {
  const CHUNK = 64 * 1024;
  const TOTAL = 20 * 1024 * 1024;
  let produced = 0;
  async function* gen() {
    yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n`);
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      produced += CHUNK;
      yield Buffer.alloc(CHUNK, 0x61);
    }
    yield Buffer.from(`\r\n--${B}--`);
  }
  let consumed = 0;
  let maxAhead = 0;
  for await (const part of parseMultipart(source(gen()))) {
    for await (const c of part.stream as AsyncIterable<Buffer>) {
      consumed += c.length;
      maxAhead = Math.max(maxAhead, produced - consumed);
      // Slow at first: the source must wait for us meanwhile.
      if (consumed < 1024 * 1024) await sleep(5);
    }
  }
  assert.equal(consumed, TOTAL);
  assert.ok(maxAhead < 2 * 1024 * 1024, `read ${maxAhead} bytes ahead of the consumer`);
});
