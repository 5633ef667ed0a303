// readBody held to raw-body as body-parser calls it: generated bodies in random chunks, with a
// Content-Length that is right, missing, short or long, gzip or not, under random limits, go to
// both; the bytes, or the error's status and type, must match apart from the differences listed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import getRawBody from 'raw-body';
import { readBody } from './read-body.js';

type Outcome = { bytes: string } | { status: number; type: string };

function request(chunks: Buffer[], headers: Record<string, string>) {
  return Object.assign(Readable.from(chunks, { objectMode: false }), { headers });
}

function outcome(p: Promise<Buffer>): Promise<Outcome> {
  return p.then(
    (buf) => ({ bytes: buf.toString('hex') }),
    (err: { status?: number; type?: string }) => ({ status: err.status ?? 0, type: err.type ?? 'none' }),
  );
}

function split(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(body.subarray(last, p));
    last = p;
  }
  out.push(body.subarray(last));
  return out.filter((c) => c.length > 0);
}

/** body-parser's call: the request itself, or for gzip a gunzip stream with no length. */
function viaRawBody(chunks: Buffer[], headers: Record<string, string>, limit: number, gzip: boolean): Promise<Buffer> {
  const req = request(chunks, headers);
  if (!gzip) {
    const length = headers['content-length'];
    return getRawBody(req, { limit, length: length === undefined ? null : Number(length) });
  }
  const inflated = req.pipe(createGunzip());
  return getRawBody(inflated, { limit });
}

describe('readBody against raw-body (differential)', () => {
  const input = fc.record({
    data: fc.uint8Array({ maxLength: 3000 }),
    cuts: fc.array(fc.nat(), { maxLength: 10 }),
    length: fc.constantFrom('exact', 'none', 'short', 'long'),
    delta: fc.integer({ min: 1, max: 500 }),
    limit: fc.nat({ max: 4000 }),
    gzip: fc.boolean(),
  });

  it("gives raw-body's bytes or error, apart from the listed difference", async () => {
    await fc.assert(
      fc.asyncProperty(input, async ({ data, cuts, length, delta, limit, gzip }) => {
        const body = gzip ? gzipSync(data) : Buffer.from(data);
        const headers: Record<string, string> = {};
        if (gzip) headers['content-encoding'] = 'gzip';
        // body-parser gives raw-body no length for an encoded body, so gzip is compared with the exact one.
        const declared =
          gzip || length === 'exact'
            ? body.length
            : length === 'short'
              ? Math.max(0, body.length - delta)
              : length === 'long'
                ? body.length + delta
                : undefined;
        if (declared !== undefined) headers['content-length'] = String(declared);
        const chunks = split(body, cuts);
        const [ours, theirs] = await Promise.all([
          outcome(readBody(request(chunks, headers), { limit, inflate: true })),
          outcome(viaRawBody(chunks, headers, limit, gzip)),
        ]);
        // Listed difference: a body that runs past its Content-Length fails with 400 as soon as it
        // does; raw-body reads on and answers 413 once it passes the limit.
        if (!gzip && declared !== undefined && declared <= limit && body.length > declared && body.length > limit) {
          assert.deepEqual(ours, { status: 400, type: 'request.size.invalid' });
          assert.deepEqual(theirs, { status: 413, type: 'entity.too.large' });
          return;
        }
        assert.deepEqual(ours, theirs, JSON.stringify({ size: body.length, declared, limit, gzip }));
      }),
      { numRuns: 600 },
    );
  });

  it('each listed difference, as raw-body answers it', async () => {
    // A request that closes before its end (the client went away).
    const cut = () => {
      const req = Object.assign(new Readable({ read() {} }), { headers: { 'content-length': '10' } });
      req.push(Buffer.from('abc'));
      setImmediate(() => req.destroy());
      return req;
    };
    assert.deepEqual(await outcome(readBody(cut(), { limit: 100, inflate: true })), {
      status: 400,
      type: 'request.aborted',
    });
    const pending = Symbol('pending');
    const settled = await Promise.race([outcome(getRawBody(cut(), { limit: 100, length: 10 })), sleep(200, pending)]);
    assert.equal(settled, pending, 'raw-body never settles when the stream closes without end or aborted');
    // Past the Content-Length and the limit.
    const long = () => request([Buffer.alloc(60), Buffer.alloc(60)], { 'content-length': '50' });
    assert.deepEqual(await outcome(readBody(long(), { limit: 100, inflate: true })), {
      status: 400,
      type: 'request.size.invalid',
    });
    assert.deepEqual(await outcome(getRawBody(long(), { limit: 100, length: 50 })), {
      status: 413,
      type: 'entity.too.large',
    });
  });
});
