// Sends one file as the response to a GET or HEAD: safe path, open once, headers (hook first,
// then defaults for what it left unset), preconditions (304/412; a 304 only while the status is
// 2xx, as send), ranges (206/416), then the bytes with backpressure. It answers 200, 206 and 304
// itself; anything else is passed to the callback as a FcgiError (status, expose, code) for the
// caller to handle, with no header of ours left set but a 416's Content-Range (as send leaves it).
// With `offload`, the bytes are the web server's to send (offload.ts): the app answers 200 with
// the header naming the file and no body, and leaves ranges (and with nginx validators) to it.
import { fstat, type BigIntStats, type Stats } from 'node:fs';
import { extname } from 'node:path';
import { promisify } from 'node:util';
import lazy from '../semantics/lazy.cjs';
import type { FcgiResponse, HeaderValue } from '../http/index.js';
import { FcgiError } from '../errors.js';
import { sendError } from './errors.js';
import { offloadValue, type NormalizedOffload, type OffloadHeader } from './offload.js';
import { closeFd, locateFile, openVariant, type OpenedFile } from './open-file.js';
import { normalizeSendOptions, type NormalizedSendOptions, type SendOptions } from './options.js';
import { decodeUrlPath, resolveSafePath, type SafePath } from './path-safety.js';
import { contentRange, parseRange, planMultipart, type ByteRange, type Segment } from '../semantics/index.js';
import { pumpFile } from './stream-file.js';
import {
  acceptedCodings,
  appendVary,
  etag as statEtag,
  evaluatePreconditions,
  ifRangeMatches,
  parseHttpDate,
  type Validators,
} from '../semantics/index.js';

const fstatBig = promisify(fstat) as unknown as (fd: number, o: { bigint: true }) => Promise<BigIntStats>;

export interface SendRequest {
  method: string;
  headers: Record<string, string | undefined>;
}

export interface SentFile {
  /** The file whose bytes were sent (a precompressed variant's own path). */
  path: string;
  stat: Stats;
  status: 200 | 206 | 304;
  /** 'br' or 'gzip' when a precompressed variant was sent. */
  encoding?: string;
  /** Set when the web server was asked to send the file (status is then the app's 200). */
  offload?: { header: OffloadHeader; value: string };
}

export type SendCallback = (err: FcgiError | Error | null, sent?: SentFile) => void;

const normalized = new WeakSet<object>();

/** Options normalized once, to reuse across requests (a middleware does this at creation). */
export function prepareSendOptions(
  options?: SendOptions,
  defaults?: { precompressed?: boolean },
): NormalizedSendOptions {
  const n = normalizeSendOptions(options, defaults);
  normalized.add(n);
  return n;
}

function prepared(options: SendOptions | NormalizedSendOptions | undefined): NormalizedSendOptions {
  return options && normalized.has(options)
    ? (options as NormalizedSendOptions)
    : prepareSendOptions(options as SendOptions);
}

/** Sends the file at URL path `urlPath` (percent-encoded, decoded exactly once) under `options.root`. */
export function sendUrlPath(
  req: SendRequest,
  res: FcgiResponse,
  urlPath: string,
  options: SendOptions | NormalizedSendOptions,
  cb: SendCallback,
): void {
  const decoded = decodeUrlPath(urlPath);
  if (decoded instanceof FcgiError) return void process.nextTick(cb, decoded);
  sendPath(req, res, decoded, options, cb);
}

/**
 * Sends the file at `path`: a decoded path below `options.root`, or without a root an absolute
 * path. `cb(null, sent)` once the response ended; `cb(err)` for anything not answered (with
 * code ECONNABORTED when the client went away mid-way).
 */
export function sendPath(
  req: SendRequest,
  res: FcgiResponse,
  path: string,
  options: SendOptions | NormalizedSendOptions | undefined,
  cb: SendCallback,
): void {
  let opts: NormalizedSendOptions;
  try {
    opts = prepared(options);
  } catch (err) {
    return void process.nextTick(cb, err as Error);
  }
  const safe = resolveSafePath(path, opts.root, opts.dotfiles);
  if (safe instanceof FcgiError) return void process.nextTick(cb, safe);
  serve(req, res, safe, opts).then(
    (sent) => process.nextTick(cb, null, sent),
    (err: Error) => process.nextTick(cb, err),
  );
}

/** Headers this send set or changed, with what they were, to undo them before reporting an error. */
class HeaderLog {
  readonly #res: FcgiResponse;
  readonly #before = new Map<string, string | string[] | undefined>();
  constructor(res: FcgiResponse) {
    this.#res = res;
  }
  set(name: string, value: HeaderValue): void {
    if (!this.#before.has(name)) this.#before.set(name, this.#res.getHeader(name));
    this.#res.setHeader(name, value);
  }
  setDefault(name: string, value: HeaderValue | undefined): void {
    if (value !== undefined && !this.#res.hasHeader(name)) this.set(name, value);
  }
  remove(name: string): void {
    if (!this.#res.hasHeader(name)) return;
    if (!this.#before.has(name)) this.#before.set(name, this.#res.getHeader(name));
    this.#res.removeHeader(name);
  }
  undo(): void {
    if (this.#res.headersSent) return;
    for (const [name, value] of this.#before) {
      if (value === undefined) this.#res.removeHeader(name);
      else this.#res.setHeader(name, value);
    }
  }
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function makeEtag(file: OpenedFile, opts: NormalizedSendOptions): Promise<string | undefined> {
  if (opts.etag === false) return undefined;
  if (opts.etag === 'weak') return statEtag(file.stat, { weak: true });
  if (opts.etag === 'strong') {
    // Inode, size and mtime in nanoseconds: cheap (no read of the file), and any write changes
    // the mtime; see docs/static.md for why not a content hash.
    const s = await fstatBig(file.fd, { bigint: true });
    return `"${s.ino.toString(16)}-${s.size.toString(16)}-${s.mtimeNs.toString(16)}"`;
  }
  // The path of the bytes being sent, so a variant gets its own tag.
  return opts.etag(file.path, file.stat) || undefined;
}

/** send's isCachable(): only a 2xx or 304 status may become a 304. */
function cacheable(status: number): boolean {
  return (status >= 200 && status < 300) || status === 304;
}

function addVary(log: HeaderLog, res: FcgiResponse, field: string): void {
  const prev = res.getHeader('Vary');
  const value = appendVary(prev, field);
  if (value !== prev) log.set('Vary', value);
}

/** Content headers a 304 must not carry (RFC 9110 15.4.5). */
const NOT_ON_304 = [
  'Content-Type',
  'Content-Length',
  'Content-Encoding',
  'Content-Range',
  'Content-Language',
  'Content-Disposition',
];

async function serve(
  req: SendRequest,
  res: FcgiResponse,
  safe: SafePath,
  opts: NormalizedSendOptions,
): Promise<SentFile> {
  if (res.headersSent) throw sendError(500, 'EHEADERSSENT', { message: "Can't set headers after they are sent." });
  const located = await locateFile(safe, opts);
  if (located instanceof FcgiError) throw located;
  let file: OpenedFile = located;
  const originalPath = file.path;
  const rangeHeader = opts.acceptRanges ? req.headers.range : undefined;
  let encoding: string | undefined;
  // A Range applies to the identity file: ranges of a compressed variant are not served.
  if (opts.precompressed && rangeHeader === undefined && opts.window === null) {
    const variant = await openVariant(file, acceptedCodings(req.headers['accept-encoding']), opts);
    if (variant) {
      closeFd(file.fd);
      file = variant;
      encoding = variant.encoding;
    }
  }
  // A window of the file is ours to cut: the web server would send all of it.
  const offload = opts.window ? null : offloadTarget(req, res, file.path, encoding, opts.offload);
  const log = new HeaderLog(res);
  let handedOff = false;
  try {
    return await respond(req, res, file, originalPath, encoding, rangeHeader, opts, log, offload, () => {
      handedOff = true;
    });
  } catch (err) {
    log.undo();
    // RFC 9110 15.5.17: a 416 says the current length; the error handler answers with it on.
    const range = (err as FcgiError).status === 416 ? (err as FcgiError).headers?.['Content-Range'] : undefined;
    if (typeof range === 'string' && !res.headersSent) res.setHeader('Content-Range', range);
    throw err;
  } finally {
    if (!handedOff) closeFd(file.fd);
  }
}

interface OffloadTarget {
  header: OffloadHeader;
  value: string;
  /** nginx: it keeps none of the app's validators, evaluates If-* against its own, adds Accept-Ranges. */
  serverValidators: boolean;
}

/**
 * The header to answer with instead of the bytes, or null to stream: only a 200 to GET or HEAD
 * of the identity file (nginx and mod_xsendfile drop Content-Encoding, so a precompressed
 * variant is streamed; nginx would replace any other status), and only when the map places it.
 */
function offloadTarget(
  req: SendRequest,
  res: FcgiResponse,
  path: string,
  encoding: string | undefined,
  offload: NormalizedOffload | null,
): OffloadTarget | null {
  if (!offload || encoding !== undefined || res.statusCode !== 200) return null;
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  const value = offloadValue(path, offload);
  return value === null ? null : { header: offload.header, value, serverValidators: offload.kind === 'uri' };
}

/** Answers with the offload header and no body. No Content-Length: the web server sets the file's. */
function handOver(res: FcgiResponse, log: HeaderLog, target: OffloadTarget): void {
  log.set(target.header, target.value);
  log.remove('Content-Length');
  log.remove('Content-Range');
  // Headers out first: end() on a GET with nothing written would add Content-Length: 0.
  res.flushHeaders();
  res.end();
}

async function respond(
  req: SendRequest,
  res: FcgiResponse,
  file: OpenedFile,
  originalPath: string,
  encoding: string | undefined,
  rangeHeader: string | undefined,
  opts: NormalizedSendOptions,
  log: HeaderLog,
  offload: OffloadTarget | null,
  handOff: () => void,
): Promise<SentFile> {
  const { stat } = file;
  if (opts.headers) for (const name of Object.keys(opts.headers)) log.set(name, opts.headers[name]!);
  opts.setHeaders?.(res, originalPath, stat);
  // nginx would send a second Accept-Ranges, and drops the app's ETag and Last-Modified.
  const ownValidators = !offload?.serverValidators;
  if (opts.acceptRanges && ownValidators) log.setDefault('Accept-Ranges', 'bytes');
  if (opts.cacheControl) {
    log.setDefault(
      'Cache-Control',
      `public, max-age=${Math.floor(opts.maxAge / 1000)}${opts.immutable ? ', immutable' : ''}`,
    );
  }
  if (opts.lastModified && ownValidators) log.setDefault('Last-Modified', stat.mtime.toUTCString());
  if (ownValidators) log.setDefault('ETag', await makeEtag(file, opts));
  log.setDefault('Content-Type', lazy.mimeTypes().contentType(extname(originalPath)) || 'application/octet-stream');
  if (encoding) {
    log.set('Content-Encoding', encoding);
    addVary(log, res, 'Accept-Encoding');
  }
  const offloaded = (target: OffloadTarget): SentFile => {
    handOver(res, log, target);
    return { path: file.path, stat, status: 200, offload: { header: target.header, value: target.value } };
  };
  if (offload && !ownValidators) return offloaded(offload);

  const lastModified = parseHttpDate(one(res.getHeader('Last-Modified')));
  const validators: Validators = {
    etag: one(res.getHeader('ETag')),
    lastModified: Number.isNaN(lastModified) ? undefined : lastModified,
  };
  const sent = (status: SentFile['status']): SentFile => ({
    path: file.path,
    stat,
    status,
    ...(encoding ? { encoding } : {}),
  });
  const condition = evaluatePreconditions(req.headers, validators, req.method);
  if (condition === 'precondition-failed') throw sendError(412, 'EPRECONDITION');
  // As send: a status set before (say 500 or 404) is kept and the file sent, never a 304.
  if (condition === 'not-modified' && cacheable(res.statusCode)) {
    for (const name of NOT_ON_304) res.removeHeader(name);
    res.statusCode = 304;
    res.end();
    return sent(304);
  }
  // X-Sendfile: lighttpd and mod_xsendfile keep the app's validators and do the ranges.
  if (offload) return offloaded(offload);

  // The bytes on offer: the whole file, or the `start`/`end` window (ranges are within it).
  const offset = opts.window ? Math.min(opts.window.start, stat.size) : 0;
  const size = opts.window ? Math.max(0, Math.min(stat.size - 1, opts.window.end) - offset + 1) : stat.size;
  let ranges: ByteRange[] | null = null;
  if (rangeHeader !== undefined) {
    const parsed = parseRange(size, rangeHeader, { maxRanges: opts.maxRanges });
    // If-Range that does not match: the Range is ignored and the whole file sent (13.1.5).
    if (parsed !== 'ignore' && ifRangeMatches(req.headers, validators)) {
      if (parsed === 'unsatisfiable') {
        throw sendError(416, 'ERANGE', { headers: { 'Content-Range': contentRange(size) } });
      }
      ranges = parsed;
    }
  }

  let segments: Segment[];
  let length: number;
  if (ranges === null) {
    segments = size > 0 ? [{ start: 0, end: size - 1 }] : [];
    length = size;
  } else if (ranges.length === 1) {
    const r = ranges[0]!;
    res.statusCode = 206;
    log.set('Content-Range', contentRange(size, r));
    segments = [r];
    length = r.end - r.start + 1;
  } else {
    const plan = planMultipart(ranges, size, one(res.getHeader('Content-Type')));
    res.statusCode = 206;
    log.set('Content-Type', plan.contentType);
    segments = plan.segments;
    length = plan.length;
  }
  if (offset > 0)
    segments = segments.map((s) => (Buffer.isBuffer(s) ? s : { start: s.start + offset, end: s.end + offset }));
  log.set('Content-Length', length);
  const status = ranges === null ? 200 : 206;
  if (req.method === 'HEAD') {
    res.end();
    return sent(status);
  }
  handOff();
  return new Promise<SentFile>((resolve, reject) => {
    pumpFile(file.fd, res, segments, (err) => {
      closeFd(file.fd);
      if (err) reject(err);
      else resolve(sent(status));
    });
  });
}
