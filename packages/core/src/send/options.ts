// Options of the file sender, checked once (a bad value throws when the middleware is created,
// not on the first request) and normalized.
import type { Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FcgiResponse, HeaderValue } from '../http/index.js';
import { normalizeOffload, type NormalizedOffload, type SendOffload } from './offload.js';
import type { Dotfiles } from './path-safety.js';
import { DEFAULT_MAX_RANGES } from '../semantics/index.js';

/** ETag from a file's stats, for `etag: fn`. */
export type StatEtag = (path: string, stat: Stats) => string | undefined;

export interface SendOptions {
  /** Directory the path is inside of. Without it the path must be absolute. */
  root?: string;
  /** Files or directories whose name starts with '.': 'allow', 'deny' (403), 'ignore' (404; default). */
  dotfiles?: Dotfiles;
  /** File(s) served for a path ending in '/'; default 'index.html'; false for none. */
  index?: string | readonly string[] | false;
  /** Extensions tried when the path has none and is not found: ['html'] serves /about from about.html. */
  extensions?: string | readonly string[] | false;
  /**
   * ETag: true or 'weak' (default; W/"size-mtime" in hex), 'strong' ("inode-size-mtime_ns" in
   * hex, see docs/static.md), false, or a function of (path, stats).
   */
  etag?: boolean | 'weak' | 'strong' | StatEtag;
  /** Last-Modified from the file's mtime (default true). */
  lastModified?: boolean;
  /**
   * Cache-Control max-age in ms, or a string as the ms package reads it ('1d', '2h', '30m');
   * capped at one year (Infinity is one year). Default 0.
   */
  maxAge?: number | string;
  /** Adds `immutable` to Cache-Control (default false). */
  immutable?: boolean;
  /** Set Cache-Control at all (default true). */
  cacheControl?: boolean;
  /**
   * Send only the bytes from `start` to `end` (inclusive, 0-based, as send's options): the
   * response is that window, and a Range is taken within it. No precompressed variant or
   * offload then. Default: the whole file.
   */
  start?: number;
  end?: number;
  /** Honour Range and say Accept-Ranges: bytes (default true). */
  acceptRanges?: boolean;
  /** More ranges than this in one request and the whole file is sent with 200 (default 100). */
  maxRanges?: number;
  /** Serve file.br / file.gz when they exist and the client accepts them. */
  precompressed?: boolean;
  /** Let symlinks lead outside the root (default false: such files are refused with 403). */
  followSymlinks?: boolean;
  /** Called before the default headers are set (those it sets are kept): (res, path, stat). */
  setHeaders?: (res: FcgiResponse, path: string, stat: Stats) => void;
  /** Headers set on every file response (res.sendFile's `headers` option). */
  headers?: Record<string, HeaderValue>;
  /**
   * Let the web server send the file (X-Accel-Redirect, X-Sendfile): see docs/sendfile-offload.md.
   * false turns off what the app's 'sendfile offload' setting would turn on.
   */
  offload?: SendOffload | false;
}

export interface NormalizedSendOptions {
  root: string | null;
  /** The root with symlinks resolved, computed once on first use. */
  realRoot: () => Promise<string>;
  dotfiles: Dotfiles;
  index: string[];
  extensions: string[];
  etag: false | 'weak' | 'strong' | StatEtag;
  lastModified: boolean;
  maxAge: number;
  immutable: boolean;
  cacheControl: boolean;
  acceptRanges: boolean;
  maxRanges: number;
  /** The window of the file to send: [start, end] inclusive; null for the whole file. */
  window: { start: number; end: number } | null;
  precompressed: boolean;
  followSymlinks: boolean;
  setHeaders: SendOptions['setHeaders'];
  headers: Record<string, HeaderValue> | undefined;
  offload: NormalizedOffload | null;
}

const MAX_MAX_AGE = 365 * 24 * 60 * 60 * 1000;
const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  msecs: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
  y: 31_557_600_000,
  yr: 31_557_600_000,
  yrs: 31_557_600_000,
  year: 31_557_600_000,
  years: 31_557_600_000,
};

/**
 * Milliseconds from a number or a duration string ('1d', '2.5 hours', '500'), clamped to
 * [0, 1 year] as send does (Infinity is a year). Any string the ms package reads gives its value
 * (held to it by options-vs-ms.test.ts); NaN and strings that are not durations are a TypeError
 * (send would quietly use 0).
 */
export function parseMaxAge(value: number | string | undefined): number {
  if (value === undefined) return 0;
  let ms: number;
  if (typeof value === 'number') ms = value;
  else {
    const m = /^\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-z]*)\s*$/i.exec(value);
    const unit = m ? (m[2] ? UNITS[m[2].toLowerCase()] : 1) : undefined;
    if (!m || unit === undefined) throw new TypeError(`maxAge: not a duration: ${JSON.stringify(value)}`);
    ms = Number(m[1]) * unit;
  }
  if (Number.isNaN(ms)) throw new TypeError(`maxAge: not a number: ${String(value)}`);
  return Math.min(Math.max(0, ms), MAX_MAX_AGE);
}

/** A byte position option: a non-negative integer, or undefined. */
function position(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new TypeError(`${name} must be a non-negative integer`);
  return value;
}

function list(value: string | readonly string[] | false | undefined, fallback: string[], name: string): string[] {
  if (value === undefined) return fallback;
  if (value === false) return [];
  const out = typeof value === 'string' ? [value] : [...value];
  for (const v of out) {
    if (typeof v !== 'string' || v === '')
      throw new TypeError(`${name} must be a string, an array of strings, or false`);
  }
  return out;
}

export function normalizeSendOptions(
  options: SendOptions = {},
  defaults: { precompressed?: boolean } = {},
): NormalizedSendOptions {
  const dotfiles = options.dotfiles ?? 'ignore';
  if (dotfiles !== 'allow' && dotfiles !== 'deny' && dotfiles !== 'ignore') {
    throw new TypeError('dotfiles must be "allow", "deny" or "ignore"');
  }
  const e = options.etag ?? true;
  let etag: NormalizedSendOptions['etag'];
  if (typeof e === 'function') etag = e;
  else if (e === true || e === 'weak') etag = 'weak';
  else if (e === 'strong') etag = 'strong';
  else if (e === false) etag = false;
  else throw new TypeError(`etag must be true, false, 'weak', 'strong' or a function`);
  const root = options.root === undefined || options.root === '' ? null : resolve(options.root);
  let real: Promise<string> | null = null;
  const maxRanges = options.maxRanges ?? DEFAULT_MAX_RANGES;
  if (!Number.isInteger(maxRanges) || maxRanges < 1) throw new TypeError('maxRanges must be a positive integer');
  if (options.setHeaders !== undefined && typeof options.setHeaders !== 'function')
    throw new TypeError('setHeaders must be a function');
  const start = position(options.start, 'start');
  const end = position(options.end, 'end');
  return {
    root,
    // A failed realpath (root missing) is retried on the next request rather than remembered.
    realRoot: () =>
      (real ??= realpath(root ?? '/').catch((err) => {
        real = null;
        throw err;
      })),
    dotfiles,
    index: list(options.index, ['index.html'], 'index'),
    extensions: list(options.extensions, [], 'extensions').map((x) => x.replace(/^\./, '')),
    etag,
    lastModified: options.lastModified ?? true,
    maxAge: parseMaxAge(options.maxAge),
    immutable: options.immutable ?? false,
    cacheControl: options.cacheControl ?? true,
    acceptRanges: options.acceptRanges ?? true,
    maxRanges,
    window: start === undefined && end === undefined ? null : { start: start ?? 0, end: end ?? Infinity },
    precompressed: options.precompressed ?? defaults.precompressed ?? false,
    followSymlinks: options.followSymlinks ?? false,
    setHeaders: options.setHeaders,
    headers: options.headers,
    offload: normalizeOffload(options.offload),
  };
}
