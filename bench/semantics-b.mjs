// Our HTTP-semantics helpers against the npm libraries they stand in for: operations per second
// (or MiB/s) on the same inputs, to decide per item which one @fcgi/core uses. Each figure is the
// median of 5 rounds, ours and the library's alternating, so a busy machine hurts both alike.
// Run after a build:  node bench/semantics-b.mjs
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const core = new URL('../packages/core/', import.meta.url);
const require = createRequire(new URL('package.json', core));
const dist = (p) => import(new URL(`dist/${p}`, core).href);

const qs = require('qs');
const busboy = require('busboy');
const rangeParser = require('range-parser');
const getRawBody = require('raw-body');
const proxyaddr = require('proxy-addr');

const { parseNested } = await dist('semantics/nested-query.js');
const { compileTrust, forwardedChain } = await dist('semantics/proxy-trust.js');
const { parseRange } = await dist('semantics/range.js');
const { MultipartParser } = await dist('semantics/multipart-parser.js');
const { parsePartHeaders, parseDisposition } = await dist('app/body/part-headers.js');
const { readBody } = await dist('app/body/read-body.js');

/** Runs `fn` for about `ms` milliseconds (after a warm-up) and returns calls per second. */
function rate(fn, ms = 200) {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function rateAsync(fn, ms = 200) {
  for (let i = 0; i < 500; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
  }
  return n / ((performance.now() - start) / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
/** Medians of 5 alternating rounds of `ours()` and `lib()` (each returns a rate). */
async function row(item, input, ours, lib) {
  const a = [];
  const b = [];
  for (let i = 0; i < 5; i++) {
    a.push(await ours());
    b.push(await lib());
  }
  const [o, l] = [median(a), median(b)];
  rows.push({ item, input, ours: Math.round(o), library: Math.round(l), 'ours/lib': (o / l).toFixed(2) });
}

// Proxy trust: the X-Forwarded-For walk behind req.ip, and compiling the setting.
{
  const xff = '203.0.113.9, 10.0.0.2';
  const ours = compileTrust('loopback, uniquelocal');
  const theirs = proxyaddr.compile(['loopback', 'uniquelocal']);
  await row(
    'proxy trust',
    'req.ip walk, 2 hops',
    () => rate(() => forwardedChain('127.0.0.1', xff, ours)),
    () =>
      rate(() =>
        proxyaddr.all({ socket: { remoteAddress: '127.0.0.1' }, headers: { 'x-forwarded-for': xff } }, theirs),
      ),
  );
}

// Nested query strings, with body-parser's options for qs.
const decode = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const form =
  'name=Jane+Doe&email=jane%40example.com&address[street]=1+Main+St&address[city]=Paris&tags[]=a&tags[]=b&tags[]=c&agree=on';
const big = Array.from({ length: 1000 }, (_, i) => `items[${i % 50}][f${i % 7}]=v${i}`).join('&');
for (const [label, body] of [
  ['8-field form', form],
  ['1000 nested params', big],
]) {
  const count = body.split('&').length;
  await row(
    'nested query',
    label,
    () => rate(() => parseNested(body, { depth: 32, arrayLimit: Math.max(100, count), decode })),
    () =>
      rate(() =>
        qs.parse(body, {
          allowPrototypes: true,
          arrayLimit: Math.max(100, count),
          depth: 32,
          strictDepth: true,
          parameterLimit: 1000,
        }),
      ),
  );
}

// Ranges.
for (const h of ['bytes=0-499', 'bytes=0-10,20-30,5-25,100-']) {
  await row(
    'range',
    h,
    () => rate(() => parseRange(10_000, h)),
    () => rate(() => rangeParser(10_000, h, { combine: true })),
  );
}

// Multipart: one small form per request, and a 16 MiB file in 64 KiB chunks.
function multipartBody(boundary, fields, fileSize) {
  const parts = [];
  for (let i = 0; i < fields; i++)
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="field${i}"\r\n\r\nvalue ${i}\r\n`);
  let body = Buffer.from(parts.join(''));
  if (fileSize) {
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const data = Buffer.alloc(fileSize);
    for (let i = 0; i < fileSize; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    body = Buffer.concat([body, head, data, Buffer.from('\r\n')]);
  }
  return Buffer.concat([body, Buffer.from(`--${boundary}--\r\n`)]);
}
function chunks(buf, size) {
  const out = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}
function runOurs(boundary, pieces) {
  let bytes = 0;
  const p = new MultipartParser(boundary, {
    partBegin: (block) => parseDisposition(parsePartHeaders(block)['content-disposition']),
    partData: (c) => {
      bytes += c.length;
    },
    partEnd() {},
    end() {},
  });
  for (const c of pieces) p.write(c);
  p.finish();
  return bytes;
}
function runBusboy(boundary, pieces) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const bb = busboy({
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      limits: { fieldSize: Infinity },
    });
    bb.on('file', (_n, s) =>
      s.on('data', (c) => {
        bytes += c.length;
      }),
    );
    bb.on('field', (_n, v) => {
      bytes += v.length;
    });
    bb.on('close', () => resolve(bytes));
    bb.on('error', reject);
    for (const c of pieces) bb.write(c);
    bb.end();
  });
}
{
  const b = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
  const small = chunks(multipartBody(b, 5, 0), 16 * 1024);
  await row(
    'multipart',
    '5-field form (forms/s)',
    () => rate(() => runOurs(b, small)),
    () => rateAsync(() => runBusboy(b, small)),
  );
  const file = multipartBody(b, 1, 16 << 20);
  const pieces = chunks(file, 64 * 1024);
  const mbps = async (fn) => {
    await fn();
    const t = performance.now();
    for (let i = 0; i < 3; i++) await fn();
    return (3 * file.length) / (1 << 20) / ((performance.now() - t) / 1000);
  };
  await row(
    'multipart',
    '16 MiB file, 64 KiB chunks (MiB/s)',
    () => mbps(async () => runOurs(b, pieces)),
    () => mbps(() => runBusboy(b, pieces)),
  );
}

// Reading a whole 2 KiB body.
{
  const body = Buffer.alloc(2048, 120);
  const req = () =>
    Object.assign(Readable.from([body.subarray(0, 1024), body.subarray(1024)], { objectMode: false }), {
      headers: { 'content-length': '2048' },
    });
  await row(
    'raw body',
    '2 KiB in 2 chunks (bodies/s)',
    () => rateAsync(() => readBody(req(), { limit: 100 * 1024, inflate: true })),
    () => rateAsync(() => getRawBody(req(), { length: 2048, limit: 100 * 1024 })),
  );
}

console.table(rows);
