// Valid FastCGI request streams, as records, with what a correct server must answer: the seed
// material the mutator then breaks. Record boundaries, padding and interleaving vary at random.
import { createHash } from 'node:crypto';
import { RecordType as Rec, encodeBeginRequest, encodeNameValues, paddingFor, writeHeader } from '@fcgi/core/protocol';
import type { Rng } from './rng.js';

/** What the fuzz app does for each URI (see server.ts). */
export const ROUTES = [
  '/echo',
  '/hello',
  '/stream',
  '/big',
  '/json',
  '/throw',
  '/reject',
  '/late-throw',
  '/slow',
  '/never',
] as const;
export type Route = (typeof ROUTES)[number];

/** Limits the fuzz server runs with (small, so the limit paths are hit often). */
export const FUZZ_LIMITS = {
  maxParamsBytes: 32 * 1024,
  maxParams: 200,
  maxEarlyStdinBytes: 64 * 1024,
  requestTimeout: 1500,
  bodyTimeout: 1000,
  lingerTimeout: 1000,
};

export interface PlannedRequest {
  id: number;
  route: Route;
  method: string;
  keepConn: boolean;
  body: Buffer;
  /** Params over maxParamsBytes: the answer must be a 431. */
  oversize: boolean;
  /** ABORT_REQUEST follows the request: any END_REQUEST will do. */
  aborted: boolean;
  /** For /stream: chunks of 1000 bytes to write. */
  chunks: number;
}

export interface ValidStream {
  records: Buffer[];
  requests: PlannedRequest[];
  /** Management records sent (GET_VALUES, unknown types): each gets exactly one reply on id 0. */
  management: number;
}

/** One record with `content`, padded as told (random padding bytes: receivers must ignore them). */
export function record(type: number, id: number, content: Uint8Array, padding: number, rng: Rng): Buffer {
  const out = Buffer.allocUnsafe(8 + content.length + padding);
  writeHeader(out, 0, type, id, content.length, padding);
  out.set(content, 8);
  for (let i = 8 + content.length; i < out.length; i++) out[i] = rng.chance(0.7) ? 0 : rng.int(256);
  return out;
}

function padding(rng: Rng, len: number): number {
  return rng.chance(0.7) ? paddingFor(len) : rng.chance(0.5) ? 0 : rng.int(256);
}

/** A stream split into records of random sizes (a name-value pair may straddle two), then its end. */
export function streamRecords(rng: Rng, type: number, id: number, content: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < content.length) {
    const left = content.length - at;
    const n = rng.chance(0.5) ? Math.min(left, 65535) : Math.min(left, 1 + rng.int(Math.min(left, 65535)));
    out.push(record(type, id, content.subarray(at, at + n), padding(rng, n), rng));
    at += n;
  }
  out.push(record(type, id, Buffer.alloc(0), rng.chance(0.9) ? 0 : rng.int(256), rng));
  return out;
}

function randomText(rng: Rng, n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=;, /%é€😀';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function randomJson(rng: Rng, depth = 0): unknown {
  const r = rng.int(depth > 2 ? 4 : 6);
  if (r === 0) return rng.int(1000) - 500;
  if (r === 1) return randomText(rng, rng.int(10));
  if (r === 2) return rng.chance(0.5);
  if (r === 3) return null;
  if (r === 4) return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = rng.int(4); i > 0; i--) {
    Object.defineProperty(o, rng.pick(['__proto__', 'constructor', 'prototype', 'k', randomText(rng, 3)]), {
      value: randomJson(rng, depth + 1),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return o;
}

/** The params of one request: the usual CGI set, random extras (4-byte lengths and __proto__ included). */
function paramsFor(rng: Rng, r: PlannedRequest): [string, string][] {
  const { route, body, chunks, oversize } = r;
  const pairs: [string, string][] = [
    ['REQUEST_METHOD', r.method],
    ['REQUEST_URI', `${route}?q=${rng.int(100)}`],
    ['SCRIPT_NAME', route],
    ['QUERY_STRING', rng.chance(0.2) ? '__proto__[x]=1&constructor[prototype][y]=2' : `q=${rng.int(100)}`],
    ['CONTENT_LENGTH', body.length ? String(body.length) : ''],
    ['CONTENT_TYPE', route === '/json' ? 'application/json' : ''],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['HTTP_X_CHUNKS', String(chunks)],
  ];
  for (let i = rng.int(12); i > 0; i--) {
    const name = rng.pick([
      'HTTP_COOKIE',
      'HTTP_X_A',
      '__proto__',
      'constructor',
      'HTTP_ACCEPT',
      randomText(rng, rng.size(200)),
    ]);
    pairs.push([name, randomText(rng, rng.size(1000))]);
  }
  if (oversize) pairs.push(['HTTP_X_HUGE', 'h'.repeat(FUZZ_LIMITS.maxParamsBytes + 1)]);
  return pairs;
}

function planRequest(rng: Rng, id: number, keepConn: boolean, multiplexed: boolean): PlannedRequest {
  const route = rng.pick(ROUTES);
  let body: Buffer = Buffer.alloc(0);
  // An unread body over the highWaterMark pauses the whole connection (by design): with several
  // requests on it the others would wait behind it, and time out, so those bodies stay below it.
  const most = multiplexed && route !== '/echo' ? 60_000 : 200_000;
  if (route === '/json') body = Buffer.from(JSON.stringify(randomJson(rng)) ?? 'null');
  else if (rng.chance(0.6)) body = rng.bytes(rng.size(most));
  return {
    id,
    route,
    keepConn,
    body,
    method: body.length ? 'POST' : rng.pick(['GET', 'HEAD', 'DELETE']),
    oversize: rng.chance(0.03),
    aborted: (route === '/slow' || route === '/never') && rng.chance(0.4),
    chunks: route === '/stream' ? rng.int(300) : 0,
  };
}

/** The records of one request, in order: BEGIN, PARAMS stream, STDIN stream, maybe ABORT. */
function requestRecords(rng: Rng, r: PlannedRequest): Buffer[] {
  const out = [encodeBeginRequest(r.id, 1, r.keepConn)];
  const params = encodeNameValues(paramsFor(rng, r));
  out.push(...streamRecords(rng, Rec.PARAMS, r.id, params));
  out.push(...streamRecords(rng, Rec.STDIN, r.id, r.body));
  if (r.aborted) out.push(record(Rec.ABORT_REQUEST, r.id, Buffer.alloc(0), 0, rng));
  return out;
}

/** A management record: GET_VALUES (known and unknown names) or an unknown type on id 0. */
function managementRecord(rng: Rng): Buffer {
  if (rng.chance(0.6)) {
    const names = ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS', 'NOPE', '__proto__'].filter(() =>
      rng.chance(0.6),
    );
    return record(Rec.GET_VALUES, 0, encodeNameValues(names.map((n) => [n, ''] as [string, string])), 0, rng);
  }
  return record(rng.pick([0, 12, 13, 100, 255]), 0, rng.bytes(rng.int(16)), 0, rng);
}

/** One to three requests (several are multiplexed: their records interleaved), plus management records. */
export function validStream(rng: Rng): ValidStream {
  const n = rng.chance(0.75) ? 1 : rng.range(2, 3);
  const ids = rng.pick([
    [1, 2, 3],
    [3, 2, 1],
    [65535, 1, 2],
    [7, 8, 9],
  ]);
  // Without KEEP_CONN the server may close once the first request ends: only a lone request may say so.
  const requests = ids.slice(0, n).map((id) => planRequest(rng, id, n > 1 ? true : rng.chance(0.5), n > 1));
  const queues = requests.map((r) => requestRecords(rng, r));
  const records: Buffer[] = [];
  let management = 0;
  while (queues.some((q) => q.length)) {
    // Without KEEP_CONN the server stops answering once the request ended: query before it begins.
    if (rng.chance(0.02) && (requests[0]!.keepConn || records.length === 0)) {
      records.push(managementRecord(rng));
      management++;
    }
    const live = queues.filter((q) => q.length);
    records.push(live[rng.int(live.length)]!.shift()!);
  }
  return { records, requests, management };
}

/** What the fuzz app answers for a request: the checks a valid stream's replies must pass. */
export function expectedBody(r: PlannedRequest): string | null {
  if (r.method === 'HEAD') return '';
  switch (r.route) {
    case '/echo':
      return `${r.body.length} ${createHash('sha1').update(r.body).digest('hex')}`;
    case '/hello':
      return 'hello';
    case '/json':
      return JSON.stringify(JSON.parse(r.body.toString('utf8')));
    default:
      return null;
  }
}
