// Where the app sits in the site's URL space: the base (`/~alice/sub`, `/sub/app.fcgi`, or '') read
// from what the web server sent, so routes see only the path below it, as PHP frameworks do with
// SCRIPT_NAME. One app file then runs unchanged at `/`, in a sub-directory or a user directory.
import { realpathSync } from 'node:fs';

/**
 * How a request's base is found. 'auto' (the default): from PATH_INFO, SCRIPT_NAME and
 * SCRIPT_FILENAME (see baseOf). A string: that fixed prefix, removed where the URL starts with it
 * (for a server that sends no PATH_INFO, e.g. nginx `location /app/`). false: none; routes see
 * the whole URL.
 */
export type BasePath = 'auto' | false | string;

/**
 * The base of a request whose target is `url` (REQUEST_URI: percent-encoded, with its query): a
 * prefix of the URL's path, without a trailing slash. What follows it is always the URL as the
 * client sent it; the other params only say where the app starts.
 *
 * - A non-empty PATH_INFO that is the tail of the URL (decoded) means the server split the URL
 *   into the script and the rest (mod_fcgid, mod_cgi, lighttpd, Caddy, nginx with
 *   fastcgi_split_path_info): the base is what precedes that tail.
 * - Otherwise, when the server ran a script for the URL (it sent a PATH_INFO that a rewrite made
 *   no tail of the URL, or SCRIPT_FILENAME names this process's own file: a DirectoryIndex, a
 *   rewrite without `/$1`, the script's URL itself): the script's URL when the URL is it or
 *   below it, else the script's directory when the URL is below that.
 * - Otherwise '' (nginx's stock params send SCRIPT_NAME = the whole path and no PATH_INFO).
 */
export function baseOf(environ: Record<string, string>, url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const pathInfo = environ.PATH_INFO;
  if (pathInfo) {
    if (path === pathInfo) return '';
    if (path.endsWith(pathInfo) && pathInfo.charCodeAt(0) === 47) {
      const base = path.slice(0, -pathInfo.length);
      if (isPlainPrefix(base)) return trimSlash(base);
    } else if (decoded(path) === pathInfo) {
      return '';
    } else {
      for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) {
        if (decoded(path.slice(i)) === pathInfo) {
          const base = path.slice(0, i);
          if (isPlainPrefix(base)) return trimSlash(base);
          break;
        }
      }
    }
  }
  const script = environ.SCRIPT_NAME;
  if (!script || (!pathInfo && !isOwnScript(environ.SCRIPT_FILENAME))) return '';
  const whole = prefixDecodingTo(path, script);
  if (whole !== null) return trimSlash(whole);
  const dir = script.slice(0, script.lastIndexOf('/'));
  if (!dir) return '';
  const prefix = prefixDecodingTo(path, dir);
  return prefix !== null && path.charCodeAt(prefix.length) === 47 ? prefix : '';
}

/** The base under a fixed `prefix`: the prefix when the URL's path starts with it at a segment end. */
export function fixedBaseOf(prefix: string, url: string): string {
  const base = trimSlash(prefix);
  if (!base || !url.startsWith(base)) return '';
  const next = url.charCodeAt(base.length);
  return Number.isNaN(next) || next === 47 || next === 63 ? base : '';
}

/** The request target below `base` ('/' at least, the query kept). */
export function localUrlOf(url: string, base: string): string {
  if (base === '') return url;
  // The slashes between the base and the rest are one (a server merges `/sub//x` to PATH_INFO /x).
  let start = base.length;
  while (url.charCodeAt(start) === 47 && url.charCodeAt(start + 1) === 47) start++;
  const rest = url.slice(start);
  return rest.charCodeAt(0) === 47 ? rest : '/' + rest;
}

/**
 * False for a prefix a server may have resolved differently than it reads: a `.` or `..` segment,
 * or an encoded dot or percent (decoded twice on some paths, see docs/deploy/apache-mod-fcgid.md).
 * A server that normalized `/files/%2e%2e/x` to PATH_INFO `/x` must not make `/files/%2e%2e` a base.
 */
function isPlainPrefix(prefix: string): boolean {
  if (prefix.includes('%')) {
    const lower = prefix.toLowerCase();
    if (lower.includes('%2e') || lower.includes('%25')) return false;
  }
  return !/(?:^|\/)\.\.?(?:\/|$)/.test(prefix);
}

function trimSlash(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return end === s.length ? s : s.slice(0, end);
}

function decoded(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** The prefix of the encoded `path` that decodes to `target` and ends where a segment does, or null. */
function prefixDecodingTo(path: string, target: string): string | null {
  if (path.startsWith(target)) {
    const next = path.charCodeAt(target.length);
    return Number.isNaN(next) || next === 47 ? target : null;
  }
  for (let i = path.indexOf('/', 1); ; i = path.indexOf('/', i + 1)) {
    const end = i < 0 ? path.length : i;
    if (decoded(path.slice(0, end)) === target) return path.slice(0, end);
    if (i < 0) return null;
  }
}

// The realpath of this process's main file, read once; and the last SCRIPT_FILENAME compared with
// it (a FastCGI process serves one script, so one entry is enough and most requests hit it).
let own: string | null | undefined;
let lastFilename = '';
let lastIsOwn = false;

function isOwnScript(filename: string | undefined): boolean {
  if (!filename) return false;
  if (filename === lastFilename) return lastIsOwn;
  if (own === undefined) own = realpathOrNull(process.argv[1]);
  const name = own === null ? '' : own.slice(own.lastIndexOf('/'));
  // Only a file of the same name can be this one: no file system call for anything else.
  const same = own !== null && filename.endsWith(name) && (filename === own || realpathOrNull(filename) === own);
  lastFilename = filename;
  lastIsOwn = same;
  return same;
}

function realpathOrNull(path: string | undefined): string | null {
  if (!path) return null;
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** Moves the base of `req` (per `mode`) from its url to its baseUrl; originalUrl keeps the whole. */
export function applyBase(
  req: { url: string; baseUrl: string; environ: Record<string, string> },
  mode: BasePath,
): void {
  if (mode === false) return;
  const url = req.url;
  const base = mode === 'auto' ? baseOf(req.environ, url) : fixedBaseOf(mode, url);
  if (base === '') return;
  req.url = localUrlOf(url, base);
  req.baseUrl = base;
}
