// The gateway's upstream side under fuzzing: a hostile FastCGI app (test/helpers/hostile-fcgi.ts)
// answers each request with generated header blocks (control characters, 1xx and odd statuses,
// bad, differing and wrong Content-Lengths, hop-by-hop headers, bare LF), bodies (with forged
// responses inside) and framing (any record cuts, STDERR, other request ids, garbage, a missing or
// abnormal END_REQUEST, the connection cut anywhere), with `fcgi gateway` in its own process in
// front and a raw HTTP client. Every client gets one well-formed answer or a closed connection,
// never bytes past an answer; the gateway never crashes; its RSS stays flat.
// GATEWAY_FUZZ_RUNS (default 3000) and GATEWAY_FUZZ_SEED make a long or a replayed run.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { RecordType, encodeEndRequest, encodeRecord } from '@fcgi/core/protocol';
import {
  HostileApp,
  answer,
  exchange,
  readAnswer,
  startCliGateway,
  stdout,
  type Script,
} from './helpers/hostile-fcgi.js';

const runs = Number(process.env.GATEWAY_FUZZ_RUNS ?? 3000);
const seed = Number(process.env.GATEWAY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Growth of the gateway's RSS from half-way (once its heap has grown to its working size) to the end. */
const RSS_GROWTH_MB = 32;

/** One generated answer and whether a correct gateway must pass it on whole. */
interface Case {
  script: Script;
  /** Set for a well-formed answer: the status and body the client must get. */
  expect?: { status: number; body: string };
}

const CTL = fc.constantFrom('\x00', '\x01', '\x08', '\x0b', '\x1b', '\x7f', '\r');
const text = fc
  .array(
    fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...'abcXYZ019 ;=/-_.,"') },
      { weight: 1, arbitrary: CTL },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
    ),
    { maxLength: 24 },
  )
  .map((a) => a.join(''));
const STATUS = fc.constantFrom(
  '100',
  '101',
  '103',
  '199',
  '200',
  '201',
  '204',
  '206',
  '299',
  '304',
  '404',
  '500',
  '599',
  '600',
  '999',
  'abc',
  '2000',
  '20',
  '',
  ' 200',
);
const NAME = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom(
      'Content-Type',
      'X-A',
      'X-Echo',
      'Set-Cookie',
      'Location',
      'Cache-Control',
      'Content-Encoding',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Transfer-Encoding',
      'Connection',
      'Keep-Alive',
      'Upgrade',
      'Trailer',
      'X-Accel-Redirect',
      'Proxy-Connection',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('Bad Name', '', 'X\x01Y', ' X', 'X:Y') },
);
/** A Content-Length line's value: LEN stands for the body's real length. */
const LENGTH = fc.oneof(
  { weight: 6, arbitrary: fc.constant('LEN') },
  { weight: 3, arbitrary: fc.integer({ min: -40, max: 40 }).map((d) => `LEN${d >= 0 ? '+' : ''}${d}`) },
  { weight: 1, arbitrary: fc.constantFrom('abc', '-1', '1e3', '', ' 5', '0x10', '5, 5', '99999999999999999999') },
);
const LINE = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(NAME, text).map(([n, v]) => ({ kind: 'header' as const, line: `${n}: ${v}` })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(STATUS, text)
      .map(([s, r]) => ({ kind: 'header' as const, line: `Status: ${s} ${r}`.trimEnd() })),
  },
  { weight: 3, arbitrary: LENGTH.map((v) => ({ kind: 'length' as const, value: v })) },
  { weight: 1, arbitrary: text.map((t) => ({ kind: 'header' as const, line: t })) },
);
const FORGED = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Forged: yes\r\n\r\nforged';
const BODY = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2500 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.from(FORGED, 'latin1')) },
  { weight: 1, arbitrary: fc.nat(200_000).map((n) => Buffer.alloc(n, 'z')) },
);
const END = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('end' as const),
      app: fc.constantFrom(0, 0, 1, 255),
      proto: fc.constantFrom(0, 0, 0, 1, 2, 3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('endFirst' as const) }) },
);

const HOSTILE: fc.Arbitrary<Case> = fc
  .record({
    lines: fc.array(LINE, { maxLength: 8 }),
    eol: fc.constantFrom('\r\n', '\n'),
    unterminated: fc.nat(9).map((n) => n === 0),
    body: BODY,
    cuts: fc.array(fc.nat(4000), { maxLength: 5 }),
    stderr: fc.option(text, { nil: undefined }),
    otherId: fc.boolean(),
    end: END,
    close: fc.boolean(),
  })
  .map((g) => {
    const head = g.lines
      .map((l) => {
        if (l.kind === 'header') return l.line;
        const v = l.value.startsWith('LEN') ? String(g.body.length + Number(l.value.slice(3) || 0)) : l.value;
        return `Content-Length: ${v}`;
      })
      .join(g.eol);
    const block = Buffer.from(head + (g.unterminated ? g.eol : `${g.eol}${g.eol}`), 'latin1');
    const out = Buffer.concat([block, g.body]);
    const parts: Buffer[] = [];
    if (g.end.kind === 'endFirst') parts.push(encodeEndRequest(1, 0, 0));
    if (g.otherId) parts.push(encodeRecord(RecordType.STDOUT, 2, Buffer.from('Status: 200\r\n\r\nother id')));
    if (g.stderr !== undefined) parts.push(encodeRecord(RecordType.STDERR, 1, Buffer.from(g.stderr, 'latin1')));
    parts.push(stdout(out, g.cuts));
    let bytes = Buffer.concat(parts);
    if (g.end.kind === 'end') bytes = Buffer.concat([bytes, encodeEndRequest(1, g.end.app, g.end.proto)]);
    else if (g.end.kind === 'garbage') bytes = Buffer.concat([bytes, Buffer.from(g.end.bytes)]);
    else if (g.end.kind === 'cut') bytes = bytes.subarray(0, Math.floor(bytes.length * g.end.at));
    // Without END_REQUEST the app must close, or the gateway would rightly wait (a streaming answer).
    return { script: { bytes, close: g.close || g.end.kind !== 'end' } };
  });

/** Well-formed answers, framed in any way: the client must get them whole. */
const CLEAN: fc.Arbitrary<Case> = fc
  .record({
    status: fc.constantFrom(200, 201, 299, 404, 500, 599),
    withLength: fc.boolean(),
    body: fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
    cuts: fc.array(fc.nat(3100), { maxLength: 6 }),
    close: fc.boolean(),
  })
  .map((g) => {
    const head = `Status: ${g.status} Fine\r\nContent-Type: application/octet-stream\r\n${g.withLength ? `Content-Length: ${g.body.length}\r\n` : ''}\r\n`;
    const bytes = Buffer.concat([
      stdout(Buffer.concat([Buffer.from(head, 'latin1'), g.body]), g.cuts),
      encodeEndRequest(1, 0, 0),
    ]);
    return { script: { bytes, close: g.close }, expect: { status: g.status, body: g.body.toString('latin1') } };
  });

test(`gateway upstream fuzz: ${runs} hostile answers (GATEWAY_FUZZ_SEED=${seed}): one well-formed answer or a close, no crash, flat RSS`, {
  timeout: 120_000 + runs * 100,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-gw-fuzz-'));
  const app = await HostileApp.start(dir);
  const gw = await startCliGateway(app.socket);
  let unexpected = '';
  gw.child.stderr!.on('data', (s: string) => {
    // The gateway's last guard (an error forward() did not handle) or a crash report.
    const m = /gateway error:.*|Unhandled.*|TypeError.*|RangeError.*/.exec(s);
    if (m && !unexpected) unexpected = m[0];
  });
  try {
    let n = 0;
    let warm = 0;
    const samples: number[] = [];
    const counts = { answered: 0, closed: 0, badGateway: 0, clean: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: HOSTILE }, { weight: 1, arbitrary: CLEAN }), async (c) => {
        const key = String(n++);
        app.set(key, c.script);
        try {
          const x = await exchange(gw.port, `GET /s/${key} HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n`, 5000);
          assert.ok(x.closed, `no answer and no close within 5 s: ${JSON.stringify(x.raw.slice(0, 300))}`);
          const a = readAnswer(x.raw);
          if (typeof a === 'string' && a !== 'incomplete') assert.fail(`${a}: ${JSON.stringify(x.raw.slice(0, 300))}`);
          if (a === 'incomplete') {
            counts.closed++;
            assert.equal(c.expect, undefined, `a well-formed answer was cut: ${JSON.stringify(x.raw.slice(0, 300))}`);
          } else {
            counts.answered++;
            if (a.status === 502) counts.badGateway++;
            assert.equal(a.rest, '', `bytes after the answer: ${JSON.stringify(a.rest.slice(0, 200))}`);
            assert.ok(a.status >= 200, `a ${a.status} as the answer`);
            assert.ok(!a.headers.some(([name]) => name === 'x-forged'), 'a forged answer got through');
            if (c.expect) {
              counts.clean++;
              assert.equal(a.status, c.expect.status);
              assert.equal(a.body, c.expect.body);
            }
          }
          assert.equal(gw.child.exitCode, null, `the gateway exited: ${gw.stderr().slice(-2000)}`);
          assert.equal(unexpected, '', `the gateway logged: ${unexpected}`);
        } finally {
          app.forget(key);
        }
        if (n === Math.max(1, Math.floor(runs / 2))) warm = gw.rss();
        if (n % Math.max(1, Math.floor(runs / 8)) === 0) samples.push(Math.round(gw.rss() / 2 ** 20));
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    const end = gw.rss();
    const growth = (end - warm) / 2 ** 20;
    t.diagnostic(
      `${runs} runs: ${counts.answered} answered (${counts.badGateway} 502, ${counts.clean} clean checked), ` +
        `${counts.closed} closed mid-answer; gateway RSS ${(warm / 2 ** 20).toFixed(1)} -> ${(end / 2 ** 20).toFixed(1)} MB (by eighths: ${samples.join(', ')} MB)`,
    );
    assert.ok(counts.badGateway > 0 && counts.closed > 0 && counts.clean > 0, 'every path was taken');
    assert.ok(growth < RSS_GROWTH_MB, `the gateway's RSS grew ${growth.toFixed(1)} MB (bound ${RSS_GROWTH_MB} MB)`);
    // Still serving.
    app.set('last', { bytes: answer('Content-Length: 2\r\n\r\nok'), close: false });
    const last = readAnswer(
      (await exchange(gw.port, 'GET /s/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 5000)).raw,
    );
    assert.ok(typeof last !== 'string' && last.body === 'ok');
  } finally {
    await gw.stop();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
});
