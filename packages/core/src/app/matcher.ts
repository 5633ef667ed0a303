// How a stack matches request paths: the Matcher interface a pattern library plugs into (as
// @fcgi/router does with path-to-regexp), and the built-in matcher for literal paths and RegExps.
// Express's rules: without `strict`, trailing slashes of a path are dropped and one trailing slash
// of the request is allowed; a prefix (use()) ends at a segment boundary; params are decoded with
// decodeURIComponent, a malformed escape being a 400 error.
import { httpError } from '../errors.js';

export interface MatchOptions {
  /** '/Users' and '/users' differ. */
  sensitive: boolean;
  /** '/users/' and '/users' differ. */
  strict: boolean;
  /** true for routes (the whole path), false for use() (a prefix ending at a segment boundary). */
  end: boolean;
}

export interface PathMatch {
  params: Record<string, any>;
  /** The part of the request path that matched. */
  path: string;
}

/** One path of a layer, ready to test request paths. */
export interface CompiledPath {
  /** The params and matched part when `path` matches; throws a 400 FcgiError for a bad escape. */
  match(path: string): PathMatch | false;
}

/** Narrows which layers of a stack can match a path, so the dispatcher tries only those. */
export interface PathIndex {
  /** Indexes of the layers that may match `path` (a pathname), ascending. Never mutated by callers. */
  candidates(path: string): readonly number[];
}

/** What an index sees of each layer. */
export interface IndexedLayer {
  readonly compiled: readonly CompiledPath[];
  readonly options: MatchOptions;
  /** use('/'): matches every path. */
  readonly slash: boolean;
}

/**
 * Compiles the paths of a stack's layers, and optionally indexes them. createApp() and Router()
 * take one as `matcher`; the built-in `literalPaths` reads plain paths and RegExps only.
 */
export interface Matcher {
  readonly name: string;
  /** Throws a TypeError naming the path for one it cannot read: at use()/get() time, not later. */
  compile(path: string | RegExp, options: MatchOptions): CompiledPath;
  index?(layers: readonly IndexedLayer[], sensitive: boolean): PathIndex;
}

/** decodeURIComponent, with a malformed escape turned into a 400 error (Express's message). */
export function decodeParam(value: string): string {
  if (value.length === 0 || value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch (err) {
    if (err instanceof URIError)
      throw httpError(400, `Failed to decode param '${value}'`, { cause: err, code: 'ERR_FCGI_BAD_PARAM' });
    throw err;
  }
}

/** Express's loosening: trailing slashes of a path are not significant unless `strict`. */
export function loosen(path: string): string {
  if (path === '/') return path;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end);
}

/** The characters path-to-regexp gives a meaning to: a literal path has none of them. */
const PATTERN = /[\\:*{}()[\]+?!]/;
const ASCII = /^[\x00-\x7f]*$/;

/** True when `path` needs a pattern matcher (a `:param`, a `*wildcard`, a `{group}`...). */
export function isPattern(path: string): boolean {
  return PATTERN.test(path);
}

type MatchFn = (path: string) => PathMatch | false;

class Compiled implements CompiledPath {
  constructor(readonly match: MatchFn) {}
}

/**
 * The path `text` (no pattern syntax) as a matcher: string comparisons for ASCII, a regular
 * expression for case-insensitive non-ASCII text (the 'i' flag folds more than ASCII).
 */
export function literalMatch(text: string, options: MatchOptions): MatchFn {
  const trailing = !options.strict;
  if (!options.sensitive && !ASCII.test(text)) {
    const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const re = new RegExp(
      `^${escaped}${trailing && !text.endsWith('/') ? '(?:/$)?' : ''}${options.end ? '$' : '(?=/|$)'}`,
      'i',
    );
    return (path) => {
      const m = re.exec(path);
      return m ? { params: Object.create(null), path: m[0] } : false;
    };
  }
  return staticMatch(options.sensitive ? text : text.toLowerCase(), options.sensitive, options.end, trailing);
}

/** `^TEXT(?:/$)?$` (end) or `^TEXT(?:/$)?(?=/|$)` (prefix), as string comparisons. */
function staticMatch(text: string, sensitive: boolean, end: boolean, trailing: boolean): MatchFn {
  const len = text.length;
  const optionalSlash = trailing && !text.endsWith('/');
  return (path) => {
    if (path.length < len) return false;
    if (sensitive ? !path.startsWith(text) : !startsWithFolded(path, text)) return false;
    let n = len;
    if (optionalSlash && path.length === len + 1 && path.charCodeAt(len) === 47) n++;
    if (end ? path.length !== n : path.length !== n && path.charCodeAt(n) !== 47) return false;
    return { params: Object.create(null), path: n === path.length ? path : path.slice(0, n) };
  };
}

/** `path` starts with `lower` (ASCII, lower case) ignoring the case of ASCII letters. */
function startsWithFolded(path: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const a = path.charCodeAt(i);
    const b = lower.charCodeAt(i);
    if (a !== b && !(a >= 65 && a <= 90 && a + 32 === b)) return false;
  }
  return true;
}

/** A RegExp path: params by group name, else by position ('0', '1', ...), decoded; as Express. */
export function regexpMatch(re: RegExp): MatchFn {
  const names = groupNames(re.source);
  return (path) => {
    re.lastIndex = 0;
    const m = re.exec(path);
    if (!m) return false;
    const params: Record<string, any> = Object.create(null);
    for (let i = 1; i < m.length; i++) {
      const v = m[i];
      if (v !== undefined) params[names[i - 1] ?? String(i - 1)] = decodeParam(v);
    }
    return { params, path: m[0] };
  };
}

/** The name of each capturing group of a regex source, in order: its own name, or the next number. */
export function groupNames(source: string): string[] {
  const names: string[] = [];
  let unnamed = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      if (source[i + 1] !== '?') names.push(String(unnamed++));
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        const close = source.indexOf('>', i);
        names.push(source.slice(i + 3, close));
      }
    }
  }
  return names;
}

/**
 * The built-in matcher: literal paths ('/users', '/assets/') and RegExps. A path with pattern
 * syntax is refused when it is added, with the way to get patterns: never matched as text.
 */
export const literalPaths: Matcher = {
  name: 'literal paths',
  compile(path, options) {
    if (path instanceof RegExp) return new Compiled(regexpMatch(path));
    if (isPattern(path)) {
      throw new TypeError(
        `'${path}' is a path pattern, and this app or router matches literal paths only: ` +
          `create it with a pattern matcher, e.g. createApp({ matcher: patterns }) or Router() from @fcgi/router`,
      );
    }
    return new Compiled(literalMatch(options.strict ? path : loosen(path), options));
  },
};
