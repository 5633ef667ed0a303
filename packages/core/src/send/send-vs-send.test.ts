// Our file sender held to pillarjs send (what serve-static and Express's res.sendFile use): the
// same generated options and requests for the same real files, send piped to node:http's
// ServerResponse over loopback and ours (sendUrlPath, errors through the one renderer) run in
// process by inject().
// Status, the file headers and the body bytes must agree, or differ only as listed here.
//
// Deliberate differences (also in docs/architecture.md, "HTTP semantics"), each asserted below:
// Paths
//   P1 A `..` segment is refused with 403 even where it would stay inside the root; send first
//      normalizes `/sub/../page.html` to `page.html` and serves it.
//   P2 A symlink is followed only to a file inside the root that is not a dotfile: 403 for one
//      leading out, the dotfiles answer (404) for one leading to a dotfile; send serves both.
//   P3 A directory without its trailing slash is an EISDIR error for the caller (a 404 here;
//      @fcgi/static redirects, res.sendFile calls next()); send answers 301 to path + '/' itself.
//      The slash is looked for after decoding: `/sub%2f` is the index to us, a 301 for send.
//   P4 A directory with its slash but no index names (`index: false`): EISDIR (404) to us, 403 for send.
// Errors
//   E  Error answers come from the one renderer (plain text "Not Found\n" unless Accept asks for
//      more); send's are an HTML page. The status, a 416's Content-Range and the CSP and nosniff
//      headers are the same.
// Ranges
//   R1 Ranges that do not merge into one: 206 multipart/byteranges; send sends the whole file (200).
//   R2 The Range grammar differences that range.test.ts lists (unit, empty elements, first > last,
//      a suffix longer than the file, more than 100 ranges).
//   R3 If-Range honours the Range only for a strong ETag match or a date equal to Last-Modified
//      (RFC 9110 13.1.5; our default ETags are weak, so only the date); send, for any If-Range
//      that contains the ETag or any date at or after Last-Modified.
// Preconditions
//   C1 If-Match compares strongly (RFC 9110 13.1.1): a weak ETag never matches, only `*` passes;
//      send compares weakly and serves.
//   C2 An If-Modified-Since or If-Unmodified-Since that Date.parse reads but is not an HTTP-date
//      is ignored (conditional-fresh.test.ts (1)).
//   C3 If-None-Match is read as an entity-tag list (conditional-fresh.test.ts (2)).
//   C4 `Cache-Control: no-cache` on the request does not prevent a 304 (conditional-fresh.test.ts (4)).
//   C5 For POST, a matching If-None-Match is 412 and If-Modified-Since is ignored (RFC 9110
//      13.1.2, 13.1.3); send answers 304 whatever the method.
//   C6 If-Match: * passes when the file exists, ETag or not (RFC 9110 13.1.1); with `etag: false`
//      send answers 412.
//   C7 If-Unmodified-Since is ignored without a Last-Modified (RFC 9110 13.1.4); with
//      `lastModified: false` send answers 412.
//
// How the property checks it: when the two answers differ, the path differences are asserted
// from the request and the file system; otherwise each listed difference that applies to the
// request rewrites it into the request send would have to get to answer as we do (e.g. C1: an
// If-Match that matches nothing), and send's answer to that must then equal ours exactly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { Agent, createServer, request as httpRequest, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import rangeParser from 'range-parser';
import send from 'send';
import { inject } from '../client/in-process.js';
import type { FcgiError } from '../errors.js';
import { answerError, type FcgiRequest, type FcgiResponse } from '../http/index.js';
import {
  encodeUrl,
  escapeHtml,
  evaluatePreconditions,
  ifRangeMatches,
  parseHttpDate,
  parseRange,
  type ByteRange,
  type RangeResult,
} from '../semantics/index.js';
import { collapseLeadingSlashes } from './path-safety.js';
import { prepareSendOptions, sendUrlPath } from './send-file.js';

// A fixed seed (fast-check prints it, with the path to the failing case, on failure); set
// SEND_VS_SEND_SEED and SEND_VS_SEND_RUNS to explore further (3,000 runs x 10 seeds passed).
const SEED = Number(process.env.SEND_VS_SEND_SEED ?? 20261206);
const RUNS = Number(process.env.SEND_VS_SEND_RUNS ?? 500);

// -- The files --

const dir = mkdtempSync(join(tmpdir(), 'send-vs-send-'));
const root = join(dir, 'root');
const realRoot = () => realpathSync(root);
/** `n` characters of `pattern` repeated. */
const repeated = (n: number, pattern: string) =>
  Buffer.from(Array.from({ length: n }, (_, i) => pattern[i % pattern.length]).join(''));
const FILES: Record<string, Buffer> = {
  'empty.txt': Buffer.alloc(0),
  'one.txt': Buffer.from('1'),
  'page.html': repeated(1200, '<p>hello</p>\n'),
  'data.json': repeated(333, '{"a":[1,2,3]}'),
  'big.bin': Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff)),
  'with space.txt': repeated(90, 'spaced '),
  'snow ☃.txt': repeated(64, '☃'),
  '100%.txt': repeated(40, '%'),
  noext: repeated(50, 'no extension '),
  'do..ts.txt': repeated(30, 'dots '),
  '.hidden': repeated(20, 'secret '),
  '.dir/inside.txt': repeated(20, 'inside a dot directory '),
  'sub/index.html': repeated(200, '<h1>sub</h1>'),
  'sub/style.css': repeated(120, 'p{color:red}'),
};

function makeTree(): void {
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, '.dir'));
  mkdirSync(join(root, 'empty-dir'));
  writeFileSync(join(dir, 'outside.txt'), 'outside the root\n');
  let mtime = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000;
  for (const [name, bytes] of Object.entries(FILES)) {
    writeFileSync(join(root, name), bytes);
    mtime += 7.25; // a fraction of a second too: Last-Modified drops it, the ETag keeps it
    utimesSync(join(root, name), mtime, mtime);
  }
  symlinkSync('page.html', join(root, 'link-in.txt'));
  symlinkSync('../outside.txt', join(root, 'link-out.txt'));
  symlinkSync('.hidden', join(root, 'link-dot.txt'));
}

// -- The two senders --

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

type Headers = Record<string, string>;

/** The headers compared (lower-case). Date, Connection and the like are the server's, not the sender's. */
const COMPARED = [
  'content-length',
  'content-type',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'location',
  'content-security-policy',
  'x-content-type-options',
];

function pick(get: (name: string) => string | undefined): Answer['headers'] {
  const out: Answer['headers'] = {};
  for (const name of COMPARED) out[name] = get(name);
  return out;
}

const pathnameOf = (url: string) => url.split('?')[0]!;

let server: Server;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** The options of the case being run, given to both senders (both read them with the same meaning). */
interface Options {
  dotfiles?: 'allow' | 'deny' | 'ignore';
  etag?: boolean;
  lastModified?: boolean;
  acceptRanges?: boolean;
  cacheControl?: boolean;
  maxAge?: number | string;
  immutable?: boolean;
  index?: string[] | false;
  extensions?: string[];
}
let options: Options = {};
let ourOptions = prepareSendOptions({ root });

function use(o: Options): void {
  options = o;
  ourOptions = prepareSendOptions({ ...o, root });
}

/**
 * pillarjs send as serve-static calls it: the URL's pathname, still percent-encoded, under root.
 * A probe (the first GET of a case) sends ETag and Last-Modified whatever the options, to learn them.
 */
function startSend(): Promise<number> {
  server = createServer((req, res) => {
    const opts = req.headers['x-probe'] ? { ...options, etag: true, lastModified: true, root } : { ...options, root };
    send(req, pathnameOf(req.url!), opts).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
let port = 0;

function viaSend(method: string, target: string, headers: Headers): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const one = (name: string) => {
          const v = res.headers[name];
          return Array.isArray(v) ? v.join(', ') : v;
        };
        resolve({ status: res.statusCode!, headers: pick(one), body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Ours: the file sender, and what it reports answered by the one error renderer. */
function ourHandler(req: FcgiRequest, res: FcgiResponse): void {
  sendUrlPath(req, res, pathnameOf(req.url), ourOptions, (err) => {
    if (err && (err as FcgiError).code !== 'ECONNABORTED') answerError(req, res, err, { env: 'production' });
  });
}

/** The request target goes in REQUEST_URI as sent: a URL object would already resolve `..` and `\`. */
async function viaOurs(method: string, target: string, headers: Headers): Promise<Answer> {
  const r = await inject(ourHandler, 'http://127.0.0.1/', {
    method,
    headers,
    environ: { REQUEST_URI: target },
    stderr: () => {},
  });
  return {
    status: r.status,
    headers: pick((name) => r.headers.get(name) ?? undefined),
    body: Buffer.from(await r.arrayBuffer()),
  };
}

// -- Comparing --

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** send's error page (its createHtmlDocument). */
const sendErrorPage = (status: number) =>
  `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>${escapeHtml(STATUS_CODES[status]!)}</pre>\n</body>\n</html>\n`;

/** E: each side's error answer, exactly. */
function errorDifferences(method: string, ours: Answer, theirs: Answer): string[] {
  const out: string[] = [];
  const head = method === 'HEAD';
  if (ours.body.toString() !== (head ? '' : `${STATUS_CODES[ours.status]}\n`)) out.push(`our error body ${ours.body}`);
  if (ours.headers['content-type'] !== 'text/plain; charset=utf-8') out.push('our error type');
  if (theirs.body.toString() !== (head ? '' : sendErrorPage(theirs.status))) out.push(`send's error body`);
  if (theirs.headers['content-type'] !== 'text/html; charset=UTF-8') out.push(`send's error type`);
  for (const name of ['content-range', 'content-security-policy', 'x-content-type-options']) {
    if (ours.headers[name] !== theirs.headers[name])
      out.push(`${name}: ${ours.headers[name]} vs ${theirs.headers[name]}`);
  }
  return out;
}

/** What differs between the two answers ([] when they agree). */
function differences(method: string, ours: Answer, theirs: Answer): string[] {
  if (ours.status !== theirs.status) return [`status ${ours.status} vs ${theirs.status}`];
  if (ours.status >= 400) return errorDifferences(method, ours, theirs);
  const out: string[] = [];
  for (const name of COMPARED) {
    if (ours.headers[name] !== theirs.headers[name])
      out.push(`${name}: ${ours.headers[name]} vs ${theirs.headers[name]}`);
  }
  if (sha256(ours.body) !== sha256(theirs.body)) out.push(`body ${ours.body.length} vs ${theirs.body.length} bytes`);
  return out;
}

function assertError(method: string, a: Answer, status: number, why: string): void {
  assert.equal(a.status, status, why);
  assert.equal(a.body.toString(), method === 'HEAD' ? '' : `${STATUS_CODES[status]}\n`, why);
}

// -- P: differences decided by the path --

/** send's test for a path that climbs (after its normalize()). */
const UP_PATH = /(?:^|[\\/])\.\.(?:[\\/]|$)/;

/** A path difference: asserted here (`done`), or a target to ask send for instead of the one we got. */
type PathDifference = { reason: string; done: true } | { reason: string; done: false; target: string };

/** The file both would look for: the path, or with no extension and missing, the first `extensions` match. */
function located(path: string, trailingSlash: boolean): string | null {
  const candidates = [path];
  if (!trailingSlash && extname(path) === '')
    for (const ext of options.extensions ?? []) candidates.push(`${path}.${ext}`);
  return candidates.find((c) => existsSync(c)) ?? null;
}

function pathDifference(method: string, target: string, ours: Answer, theirs: Answer): PathDifference | null {
  const pathname = pathnameOf(target);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  if (decoded.split(/[\\/]/).includes('..')) {
    assert.ok(!UP_PATH.test(normalize(`.${sep}${decoded}`)), 'send refuses this `..` as well, yet the answers differ');
    assertError(method, ours, 403, 'P1: every `..` segment is refused');
    return { reason: 'P1 `..` inside the root', done: true };
  }
  const path = located(join(root, decoded), decoded.endsWith('/'));
  if (path === null) return null;
  const noIndex = options.index === false || options.index?.length === 0;
  if (statSync(path).isDirectory()) {
    if (pathname.endsWith('/')) {
      if (!noIndex) return null; // its index file is what was sent
      // P4: asked for a directory's index with no index file names: EISDIR to us, 403 to send.
      assertError(method, ours, 404, 'P4: a directory is EISDIR');
      assert.equal(theirs.status, 403, 'P4: send refuses it');
      return { reason: 'P4 directory with slash, no index', done: true };
    }
    assert.equal(theirs.status, 301, 'P3: send redirects');
    assert.equal(theirs.headers.location, encodeUrl(collapseLeadingSlashes(`${pathname}/`)));
    if (!decoded.endsWith('/') || noIndex) {
      assertError(method, ours, 404, 'P3: a directory is EISDIR');
      return { reason: 'P3 directory without slash', done: true };
    }
    // `/sub%2f`: a trailing slash to us (decoded), to send only once it is written as one.
    return { reason: 'P3 encoded slash', done: false, target: `${pathname}/${target.slice(pathname.length)}` };
  }
  const rel = relative(realRoot(), realpathSync(path));
  if (rel.startsWith(`..${sep}`)) {
    assertError(method, ours, 403, 'P2: a link out of the root');
  } else if (rel.split(sep).some((p) => p.startsWith('.')) && options.dotfiles !== 'allow') {
    assertError(method, ours, options.dotfiles === 'deny' ? 403 : 404, 'P2: a link to a dotfile');
  } else {
    return null;
  }
  assert.ok([200, 206, 304, 412, 416].includes(theirs.status), 'P2: send follows the link');
  return { reason: 'P2 symlink', done: true };
}

// -- R and C: the request send would have to get to answer as we do --

const NO_CACHE = /(?:^|,)\s*?no-cache\s*?(?:,|$)/;
/** A list fresh and we read alike (conditional-fresh.test.ts). */
const PLAIN_LIST = /^(?:\*| *(?:W\/)?"[^",\s]*"(?: *, *(?:W\/)?"[^",\s]*")* *)$/;
const NEVER = '"never-matches"';

/** send's and fresh's parseTokenList: split at commas, spaces trimmed. */
const tokens = (s: string) =>
  s
    .split(',')
    .map((t) => t.replace(/^ +| +$/g, ''))
    .filter((t) => t !== '');
const weakEq = (m: string, etag: string) => m === etag || m === `W/${etag}` || `W/${m}` === etag;
const sendListMatches = (value: string, etag: string | undefined) =>
  value === '*' || (etag !== undefined && tokens(value).some((m) => weakEq(m, etag)));

/** What send does with a Range: whole file unless it starts `bytes=` and range-parser gives exactly one range. */
function sendRange(size: number, header: string): RangeResult {
  if (!/^ *bytes=/.test(header)) return 'ignore';
  const r = rangeParser(size, header, { combine: true });
  if (r === -2) return 'ignore';
  if (r === -1) return 'unsatisfiable';
  return r.length === 1 ? [{ start: r[0]!.start, end: r[0]!.end }] : 'ignore';
}

const sameRange = (a: RangeResult, b: RangeResult) =>
  typeof a === 'string' || typeof b === 'string' ? a === b : JSON.stringify(a) === JSON.stringify(b);

/** R2: which of range.test.ts's listed grammar differences the header shows, if any. */
function rangeGrammar(size: number, header: string): string | null {
  if (!/^ *bytes=/.test(header)) return 'unit';
  const specs = header.slice(header.indexOf('=') + 1).split(',');
  if (specs.some((s) => s.trim() === '')) return 'empty element';
  if (specs.length > 100) return 'more than 100 ranges';
  for (const spec of specs) {
    const [first = '', last = ''] = spec.split('-').map((s) => s.trim());
    if (/^\d+$/.test(first) && /^\d+$/.test(last) && Number(last) < Number(first)) return 'first > last';
    if (first === '' && /^\d+$/.test(last) && size > 0 && Number(last) > size) return 'suffix longer than the file';
  }
  return null;
}

interface Probe {
  etag: string;
  lastModified: string;
  size: number;
}

/** Rewrites `h` (a copy) as each difference that applies says; returns the differences applied. */
function asSendWouldNeed(method: string, h: Headers, file: Probe): string[] {
  const reasons: string[] = [];
  const size = file.size;
  // The validators the options let out.
  const etag = options.etag === false ? undefined : file.etag;
  const lastModifiedText = options.lastModified === false ? undefined : file.lastModified;
  const lastModified = lastModifiedText === undefined ? undefined : parseHttpDate(lastModifiedText);
  const inm = h['if-none-match'];
  if (h['cache-control'] !== undefined && NO_CACHE.test(h['cache-control']) && (inm || h['if-modified-since'])) {
    delete h['cache-control'];
    reasons.push('C4 no-cache');
  }
  for (const name of ['if-modified-since', 'if-unmodified-since']) {
    const v = h[name];
    if (v && Number.isNaN(parseHttpDate(v)) && !Number.isNaN(Date.parse(v))) {
      delete h[name];
      reasons.push('C2 lenient date');
    }
  }
  if (h['if-match'] && h['if-match'] !== '*' && etag !== undefined && sendListMatches(h['if-match'], etag)) {
    h['if-match'] = NEVER;
    reasons.push('C1 If-Match strong');
  }
  if (h['if-match'] === '*' && etag === undefined) {
    delete h['if-match'];
    delete h['if-unmodified-since']; // not looked at by us, with an If-Match
    reasons.push('C6 If-Match * without ETag');
  }
  const ius = h['if-unmodified-since'];
  if (!h['if-match'] && ius && lastModified === undefined && !Number.isNaN(Date.parse(ius))) {
    delete h['if-unmodified-since'];
    reasons.push('C7 If-Unmodified-Since without Last-Modified');
  }
  const oursMatch = inm ? evaluatePreconditions({ 'if-none-match': inm }, { etag }) === 'not-modified' : false;
  if (inm && !PLAIN_LIST.test(inm) && oursMatch !== sendListMatches(inm, etag)) {
    h['if-none-match'] = oursMatch ? (etag ?? '*') : NEVER;
    reasons.push('C3 entity-tag list');
  }
  if (method !== 'GET' && method !== 'HEAD') {
    if (inm && oursMatch) {
      delete h['if-none-match'];
      h['if-match'] = NEVER;
      reasons.push('C5 POST If-None-Match');
    } else if (
      !inm &&
      h['if-modified-since'] &&
      lastModified !== undefined &&
      Date.parse(h['if-modified-since']) >= lastModified
    ) {
      delete h['if-modified-since'];
      reasons.push('C5 POST If-Modified-Since');
    }
  }
  if (options.acceptRanges === false) delete h.range; // ignored by both
  const range = h.range;
  if (range === undefined) return reasons;
  const ifRange = h['if-range'];
  if (
    ifRange &&
    parseRange(size, range) !== 'ignore' &&
    !ifRangeMatches({ 'if-range': ifRange }, { etag, lastModified })
  ) {
    const sendHonours = ifRange.includes('"')
      ? etag !== undefined && ifRange.includes(etag)
      : Date.parse(lastModifiedText ?? '') <= Date.parse(ifRange);
    if (sendHonours && sendRange(size, range) !== 'ignore') reasons.push('R3 If-Range');
    delete h.range;
    return reasons;
  }
  const ours = parseRange(size, range);
  if (sameRange(ours, sendRange(size, range))) return reasons;
  if (Array.isArray(ours) && ours.length > 1) {
    delete h.range;
    reasons.push('R1 multipart');
    return reasons;
  }
  const grammar = rangeGrammar(size, range);
  assert.ok(grammar, `a Range read differently for no listed reason: ${JSON.stringify(range)} of ${size}`);
  reasons.push(`R2 ${grammar}`);
  if (ours === 'ignore') delete h.range;
  else h.range = ours === 'unsatisfiable' ? `bytes=${size}-` : `bytes=${ours[0]!.start}-${ours[0]!.end}`;
  return reasons;
}

/** R1: our multipart/byteranges body, part by part, against the whole file send sent. */
function assertMultipart(method: string, ours: Answer, whole: Answer, ranges: ByteRange[]): void {
  assert.equal(whole.status, 200);
  const m = /^multipart\/byteranges; boundary=(\S+)$/.exec(ours.headers['content-type'] ?? '');
  assert.ok(m, `R1: ${ours.headers['content-type']}`);
  if (method === 'HEAD') return assert.equal(ours.body.length, 0);
  assert.equal(Number(ours.headers['content-length']), ours.body.length);
  const size = Number(whole.headers['content-length']);
  let at = 0;
  ranges.forEach((r, i) => {
    const head = `${i === 0 ? '' : '\r\n'}--${m[1]}\r\nContent-Type: ${whole.headers['content-type']}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`;
    assert.equal(ours.body.subarray(at, at + head.length).toString('latin1'), head);
    at += head.length;
    assert.ok(ours.body.subarray(at, at + r.end - r.start + 1).equals(whole.body.subarray(r.start, r.end + 1)));
    at += r.end - r.start + 1;
  });
  assert.equal(ours.body.subarray(at).toString('latin1'), `\r\n--${m[1]}--\r\n`);
}

/** A first GET through send: the file's validators and size, when there is a file. */
async function probe(target: string): Promise<Probe | null> {
  const a = await viaSend('GET', target, { 'x-probe': '1' });
  if (a.status !== 200 || !a.headers.etag || !a.headers['last-modified']) return null;
  return { etag: a.headers.etag, lastModified: a.headers['last-modified'], size: Number(a.headers['content-length']) };
}

// -- Generated requests --

/** A header value that refers to the file's ETag or Last-Modified, filled in from the first GET. */
type Value =
  | { text: string }
  | { etag: 'as sent' | 'strong' | 'in a list' | 'with junk' }
  | { date: number; form: 'imf' | 'rfc850' | 'asctime' | 'iso' };

function fill(v: Value, file: Probe | null): string {
  if ('text' in v) return v.text;
  if ('etag' in v) {
    const tag = file?.etag ?? 'W/"0-0"';
    if (v.etag === 'as sent') return tag;
    if (v.etag === 'strong') return tag.replace(/^W\//, '');
    return v.etag === 'in a list' ? `"other", ${tag}` : `${tag}x`;
  }
  const d = new Date((file ? Date.parse(file.lastModified) : 0) + v.date * 1000);
  const [day, date, month, year, time] = d.toUTCString().split(' ') as [string, string, string, string, string];
  if (v.form === 'imf') return d.toUTCString();
  if (v.form === 'iso') return d.toISOString();
  const long = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getUTCDay()];
  if (v.form === 'rfc850') return `${long}, ${date}-${month}-${year.slice(2)} ${time} GMT`;
  return `${day.slice(0, 3)} ${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${time} ${year}`;
}

/** Mostly absent: a request carries few conditions at a time. */
const sometimes = <T>(a: fc.Arbitrary<T>, weight = 1) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight, arbitrary: a });

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 14,
});
const garbage: fc.Arbitrary<Value> = fc
  .oneof(
    printable,
    fc.constantFrom('*', 'x', '"x"', 'W/"x"', 'W/', '"a,b"', '1', '0', 'yesterday', '2024-01-02', 'Sun, 99 Foo'),
  )
  .map((text) => ({ text }));
const etagValue: fc.Arbitrary<Value> = fc
  .constantFrom('as sent', 'strong', 'in a list', 'with junk')
  .map((etag) => ({ etag }) as const);
const dateValue: fc.Arbitrary<Value> = fc.record({
  date: fc.constantFrom(-86_400, -1, 0, 0, 1, 86_400 * 400),
  form: fc.constantFrom('imf', 'imf', 'rfc850', 'asctime', 'iso'),
});

const position = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 40 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 69_990, max: 70_010 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('1199', '1200', '999999', '007', '') },
);
const rangeSpec = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat({ max: 60 }), fc.nat({ max: 30 })).map(([a, n]) => `${a}-${a + n}`) },
  { weight: 1, arbitrary: position.map((a) => `${a}-`) },
  { weight: 1, arbitrary: position.map((n) => `-${n}`) },
  { weight: 1, arbitrary: fc.tuple(position, position).map(([a, b]) => `${a}-${b}`) },
  { weight: 1, arbitrary: fc.constantFrom(' 0 - 1 ', '-0', 'x-1', '1', '', '--1') },
);
const rangeHeader = fc.oneof(
  { weight: 6, arbitrary: fc.array(rangeSpec, { minLength: 1, maxLength: 3 }).map((s) => `bytes=${s.join(',')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('BYTES=0-0', 'bytes =0-1', 'items=0-1', 'bytes=', 'bytes=0-0,,2-2', 'bytes=5-2'),
  },
  { weight: 1, arbitrary: printable },
  { weight: 1, arbitrary: fc.nat({ max: 3 }).map((i) => `bytes=${'0-0,'.repeat(100 + i)}0-0`) },
);

/** Files as a client would write their names (encoded), and other names a client may ask for. */
const FILE_NAMES = [
  'empty.txt',
  'one.txt',
  'page.html',
  'pag%65.html',
  'data.json',
  'big.bin',
  'with%20space.txt',
  'snow%20%E2%98%83.txt',
  '100%25.txt',
  'noext',
  'do..ts.txt',
  'sub/index.html',
  'sub/',
  'sub/style.css',
  'link-in.txt',
];
const OTHER_NAMES = [
  '.hidden',
  '%2ehidden',
  '.dir/inside.txt',
  'sub',
  'empty-dir',
  'empty-dir/',
  'link-out.txt',
  'link-dot.txt',
  'missing.txt',
  'page.html/',
  'page.html/x',
  'page',
  'sub/index',
  'link-out',
  'with%20space',
];
/** Segments of hostile paths: climbing, NUL, malformed or overlong escapes, backslashes, a name too long. */
const HOSTILE = [
  ...['..', '%2e%2e', '%2E%2e', '.', '%2e', '', '%00', '%', '%zz', '%e2%98', '%c0%ae%c0%ae', '\\', '..\\'],
  ...['%5c..%5c', '%2f', `${'x'.repeat(300)}.txt`, 'sub\\index.html', '..%2f..%2foutside.txt'],
];
const NAMES = [...FILE_NAMES, ...OTHER_NAMES];
const target = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...FILE_NAMES).map((n) => `/${n}`) },
  { weight: 2, arbitrary: fc.constantFrom(...OTHER_NAMES).map((n) => `/${n}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.array(fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom(...HOSTILE)), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.constantFrom('', '', '/'),
        fc.constantFrom('', '', '?q=%2e%2e'),
      )
      .map(([parts, slash, query]) => `/${parts.join('/')}${slash}${query}`),
  },
);

interface Case {
  options: Options;
  method: string;
  target: string;
  headers: Partial<Record<string, Value>>;
}

/** Mostly the defaults; else any of the options both senders share, with the same meaning. */
const optionsArb: fc.Arbitrary<Options> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        dotfiles: fc.constantFrom('allow', 'deny', 'ignore'),
        etag: fc.boolean(),
        lastModified: fc.boolean(),
        acceptRanges: fc.boolean(),
        cacheControl: fc.boolean(),
        maxAge: fc.constantFrom(0, 1500, 86_400_000, '1d', '2h', 4e10),
        immutable: fc.boolean(),
        index: fc.constantFrom<string[] | false>(['index.html'], ['missing.html', 'index.html'], [], false),
        extensions: fc.constantFrom<string[]>(['html'], ['txt', 'html']),
      },
      { requiredKeys: [] },
    ),
  },
);

const caseArb: fc.Arbitrary<Case> = fc.record({
  options: optionsArb,
  method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST'),
  target,
  headers: fc.record({
    range: sometimes(
      rangeHeader.map((text) => ({ text })),
      3,
    ),
    'if-none-match': sometimes(fc.oneof(etagValue, etagValue, garbage)),
    'if-modified-since': sometimes(fc.oneof(dateValue, garbage)),
    'if-match': sometimes(fc.oneof(etagValue, garbage)),
    'if-unmodified-since': sometimes(fc.oneof(dateValue, garbage)),
    'if-range': sometimes(fc.oneof(etagValue, dateValue, garbage)),
    'cache-control': sometimes(fc.constantFrom('no-cache', 'max-age=0').map((text) => ({ text }))),
  }),
});

/** Runs one case through both; returns the listed differences it showed ([] when the answers agree). */
async function check(c: Case): Promise<string[]> {
  use(c.options);
  let file = await probe(c.target);
  const headers: Headers = {};
  for (const [name, v] of Object.entries(c.headers)) if (v !== undefined) headers[name] = fill(v, file);
  const ours = await viaOurs(c.method, c.target, headers);
  const theirs = await viaSend(c.method, c.target, headers);
  const diff = differences(c.method, ours, theirs);
  if (diff.length === 0) return [`same ${ours.status}`];
  const where = `${JSON.stringify(c.options)} ${c.method} ${c.target} ${JSON.stringify(headers)}: ${diff.join('; ')}`;
  const reasons: string[] = [];
  let sendTarget = c.target;
  const path = pathDifference(c.method, c.target, ours, theirs);
  if (path?.done) return [path.reason];
  if (path) {
    reasons.push(path.reason);
    sendTarget = path.target;
    file = await probe(sendTarget);
  }
  const rewritten = { ...headers };
  if (file) reasons.push(...asSendWouldNeed(c.method, rewritten, file));
  assert.ok(reasons.length > 0, `unlisted difference: ${where}`);
  const again = await viaSend(c.method, sendTarget, rewritten);
  if (file && reasons.includes('R1 multipart') && ours.status === 206) {
    assertMultipart(c.method, ours, again, parseRange(file.size, headers.range) as ByteRange[]);
  } else {
    const left = differences(c.method, ours, again);
    assert.deepEqual(
      left,
      [],
      `${where}; as ${reasons.join(', ')}: send to ${sendTarget} ${JSON.stringify(rewritten)}`,
    );
  }
  return reasons;
}

describe('the file sender against pillarjs send (differential)', () => {
  before(async () => {
    makeTree();
    port = await startSend();
  });
  after(() => {
    agent.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both give the same ETag, Last-Modified and bytes for every file', async () => {
    use({});
    for (const name of Object.keys(FILES).filter((n) => !n.startsWith('.'))) {
      const target = `/${name.split('/').map(encodeURIComponent).join('/')}`;
      const ours = await viaOurs('GET', target, {});
      const theirs = await viaSend('GET', target, {});
      assert.equal(theirs.status, 200, target);
      assert.deepEqual(differences('GET', ours, theirs), [], target);
      assert.ok(ours.body.equals(FILES[name]!), target);
      assert.match(ours.headers.etag!, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    }
  });

  it('answers generated requests as send does, apart from the listed differences', { timeout: 60_000 }, async (t) => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const reasons = await check(c);
        for (const r of reasons) seen.set(r, (seen.get(r) ?? 0) + 1);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    t.diagnostic(`seed ${SEED}: ${[...seen].map(([r, n]) => `${r} ${n}`).join(', ')}`);
  });

  it('each listed difference, one example each, as both answer it', async () => {
    use({});
    const page = (await probe('/page.html'))!;
    const dayLater = new Date(Date.parse(page.lastModified) + 86_400_000);
    const rows: [string, string, string, Headers, number, number, Options?][] = [
      ['P1', 'GET', '/sub/../page.html', {}, 403, 200],
      ['P2', 'GET', '/link-out.txt', {}, 403, 200],
      ['P2', 'GET', '/link-dot.txt', {}, 404, 200],
      ['P2', 'GET', '/link-dot.txt', {}, 403, 200, { dotfiles: 'deny' }],
      ['P3', 'GET', '/sub', {}, 404, 301],
      ['P3', 'GET', '/sub%2f', {}, 200, 301],
      ['P4', 'GET', '/sub/', {}, 404, 403, { index: false }],
      ['same 404', 'GET', '/missing.txt', {}, 404, 404], // E: the error answers differ in format only
      ['R1', 'GET', '/page.html', { range: 'bytes=0-0,2-2' }, 206, 200],
      ['R2 suffix', 'GET', '/one.txt', { range: 'bytes=-5' }, 206, 416],
      ['R2 unit', 'GET', '/page.html', { range: 'BYTES=0-0' }, 206, 200],
      ['R2 empty', 'GET', '/page.html', { range: 'bytes=0-0,,1-1' }, 206, 200],
      ['R2 first', 'GET', '/page.html', { range: 'bytes=5-2' }, 200, 416],
      ['R3', 'GET', '/page.html', { range: 'bytes=0-0', 'if-range': page.etag }, 200, 206],
      ['R3', 'GET', '/page.html', { range: 'bytes=0-0', 'if-range': dayLater.toUTCString() }, 200, 206],
      ['C1', 'GET', '/page.html', { 'if-match': page.etag }, 412, 200],
      ['C2', 'GET', '/page.html', { 'if-modified-since': dayLater.toISOString() }, 200, 304],
      ['C3', 'GET', '/page.html', { 'if-none-match': `${page.etag}x` }, 304, 200],
      ['C4', 'GET', '/page.html', { 'if-none-match': page.etag, 'cache-control': 'no-cache' }, 304, 200],
      ['C5', 'POST', '/page.html', { 'if-none-match': page.etag }, 412, 304],
      ['C5', 'POST', '/page.html', { 'if-modified-since': page.lastModified }, 200, 304],
      ['C6', 'GET', '/page.html', { 'if-match': '*' }, 200, 412, { etag: false }],
      ['C7', 'GET', '/page.html', { 'if-unmodified-since': page.lastModified }, 200, 412, { lastModified: false }],
    ];
    for (const [label, method, target, headers, ourStatus, sendStatus, opts = {}] of rows) {
      const where = `${label}: ${JSON.stringify(opts)} ${method} ${target} ${JSON.stringify(headers)}`;
      use(opts);
      assert.equal((await viaOurs(method, target, headers)).status, ourStatus, `ours, ${where}`);
      assert.equal((await viaSend(method, target, headers)).status, sendStatus, `send, ${where}`);
      const values = Object.fromEntries(Object.entries(headers).map(([k, text]) => [k, { text }]));
      const reasons = await check({ options: opts, method, target, headers: values });
      assert.ok(
        reasons.some((r) => r.startsWith(label)),
        `${where} is listed as ${reasons.join(', ')}`,
      );
    }
  });
});
