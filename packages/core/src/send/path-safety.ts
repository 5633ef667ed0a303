// From a request path to a file path that cannot leave the root. The checks run in a fixed order:
// decoding (400), NUL (400), `..` segments (403), containment (403), then the dotfiles policy.
// Only lexical checks live here; symlinks are checked on the opened file (see open-file.ts).
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { FcgiError } from '../errors.js';
import { sendError } from './errors.js';

export type Dotfiles = 'allow' | 'deny' | 'ignore';

const WINDOWS = process.platform === 'win32';
/** Separators for splitting into segments; a backslash is one on Windows only (elsewhere a name character). */
const SEGMENT_SEP = WINDOWS ? /[\\/]/ : /\//;

export interface SafePath {
  /** Absolute file system path (with a trailing separator when the request had a trailing slash). */
  path: string;
  /** Segments below the root (the whole path when there is no root), for the dotfiles policy. */
  parts: string[];
  trailingSlash: boolean;
}

/**
 * Decodes a percent-encoded URL path exactly once. What a second decoding would turn into `..` or
 * `/` (`%252e`, `%252f`) stays literal name characters. Malformed escapes and overlong UTF-8
 * (`%c0%ae`) are a 400.
 */
export function decodeUrlPath(encoded: string): string | FcgiError {
  try {
    return decodeURIComponent(encoded);
  } catch (err) {
    return sendError(400, 'EBADURI', { cause: err });
  }
}

/** True for a segment that would climb: `..`, and on Windows also `.. ` or `...` (it strips trailing dots and spaces). */
function climbs(segment: string): boolean {
  if (segment === '..') return true;
  return WINDOWS && /^\.\.[. ]*$/.test(segment);
}

/** Leading dot in any segment (`.` and `..` are gone by the time this runs). */
export function hasDotSegment(parts: readonly string[]): boolean {
  return parts.some((p) => p.length > 1 && p[0] === '.');
}

/** The dotfiles policy as an error: deny is 403, ignore is 404 (so the file seems not to exist). */
export function dotfileError(policy: Dotfiles): FcgiError | null {
  if (policy === 'allow') return null;
  return sendError(policy === 'deny' ? 403 : 404, 'EDOTFILE');
}

/** True when `path` is `root` or below it (both absolute and normalized). */
export function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  const rel = relative(root, path);
  // A name such as `..foo` right under the root is inside: only a whole `..` segment climbs.
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel);
}

/**
 * Checks a decoded path and maps it under `root` (or, without a root, takes it as an absolute
 * path of the application's choosing). Returns the error for the first check that fails.
 */
export function resolveSafePath(decoded: string, root: string | null, dotfiles: Dotfiles): SafePath | FcgiError {
  if (decoded.includes('\0')) return sendError(400, 'ENULBYTE');
  // `..` is refused whichever separator surrounds it, backslash included, on every platform.
  if (decoded.split(/[\\/]/).some(climbs)) return sendError(403, 'ETRAVERSAL');
  if (WINDOWS && /[:]/.test(root === null ? decoded.slice(2) : decoded)) return sendError(403, 'ETRAVERSAL');
  const trailingSlash = decoded.endsWith('/') || (WINDOWS && decoded.endsWith('\\'));
  let path: string;
  let parts: string[];
  if (root !== null) {
    parts = decoded.split(SEGMENT_SEP).filter((p) => p !== '' && p !== '.');
    path = join(root, ...parts);
    // Belt and braces: the lexical checks above should make this impossible.
    if (!isInside(root, path)) return sendError(403, 'ETRAVERSAL');
  } else {
    if (!isAbsolute(decoded))
      return sendError(500, 'ENOTABSOLUTE', { message: 'path must be absolute or a root given' });
    path = resolve(decoded);
    parts = normalize(decoded)
      .split(sep)
      .filter((p) => p !== '');
  }
  if (hasDotSegment(parts)) {
    const refused = dotfileError(dotfiles);
    if (refused) return refused;
  }
  if (trailingSlash && !path.endsWith(sep)) path += sep;
  return { path, parts, trailingSlash };
}

/**
 * A path with its run of leading slashes collapsed to one, so `//evil.example/` cannot become a
 * Location that a browser resolves against another host. Backslashes (which browsers read as
 * slashes) are the Location writer's to percent-encode: `/\\evil.example/` must stay that path.
 */
export function collapseLeadingSlashes(path: string): string {
  let i = 0;
  while (path[i] === '/') i++;
  return i > 1 ? '/' + path.slice(i) : path;
}
