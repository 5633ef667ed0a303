// One entry of a router's stack: a path matcher (path-to-regexp v9, a RegExp, or a plain string
// compared without a regex) and the function it runs. Express 5's rules: without `strict`, trailing
// slashes of the path are dropped and one trailing slash of the request is allowed; params are
// decoded with decodeURIComponent, a malformed escape being a 400 error.
import { match as compile, parse, type Token } from 'path-to-regexp';
import type { Route } from './route.js';
import type { PathArg } from './types.js';

export interface LayerOptions {
  sensitive: boolean;
  strict: boolean;
  /** true for routes (the whole path), false for use() (a prefix ending at a segment boundary). */
  end: boolean;
}

export interface LayerMatch {
  params: Record<string, any>;
  /** The part of the request path that matched. */
  path: string;
}

type Matcher = (path: string) => LayerMatch | false;
type Fn = (...args: any[]) => unknown;

export class Layer {
  readonly handle: Fn;
  readonly name: string;
  /** The path as given (nested lists flattened). */
  readonly path: string | RegExp | readonly (string | RegExp)[];
  /** Each path as matched, and its tokens (null for a RegExp), for the router's index. */
  readonly patterns: readonly (string | RegExp)[];
  readonly tokens: readonly (readonly Token[] | null)[];
  readonly options: LayerOptions;
  /** Four parameters: an error handler. */
  readonly error: boolean;
  /** use('/'): matches every path without looking at it. */
  readonly slash: boolean;
  /** Set for the layer that runs a Route. */
  route: Route | undefined = undefined;
  readonly matchers: readonly Matcher[];

  constructor(path: PathArg, options: LayerOptions, fn: Fn) {
    this.handle = fn;
    this.name = fn.name || '<anonymous>';
    this.options = options;
    this.error = fn.length === 4;
    const list = (Array.isArray(path) ? (path as unknown[]).flat(Infinity as 1) : [path]) as (string | RegExp)[];
    for (const p of list) {
      if (typeof p !== 'string' && !(p instanceof RegExp)) throw new TypeError(`a path must be a string or a RegExp, got ${typeof p}`);
    }
    this.path = Array.isArray(path) ? list : (path as string | RegExp);
    this.slash = path === '/' && !options.end;
    this.patterns = list.map((p) => (options.strict || typeof p !== 'string' ? p : loosen(p)));
    this.tokens = this.patterns.map((p) => (typeof p === 'string' ? parse(p).tokens : null));
    this.matchers = this.patterns.map((p, i) => (typeof p === 'string' ? stringMatcher(p, this.tokens[i]!, options) : regexpMatcher(p)));
  }

  /** The params and matched part when `path` matches (throws a 400 error for a malformed escape). */
  match(path: string): LayerMatch | false {
    if (this.slash) return { params: {}, path: '' };
    const matchers = this.matchers;
    for (let i = 0; i < matchers.length; i++) {
      const m = matchers[i]!(path);
      if (m) return m;
    }
    return false;
  }
}

/** Express's loosening: trailing slashes of a path are not significant unless `strict`. */
function loosen(path: string): string {
  if (path === '/') return path;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end);
}

/** decodeURIComponent, with a malformed escape turned into a 400 error (Express's message). */
export function decodeParam(value: string): string {
  if (value.length === 0 || value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch (err) {
    if (err instanceof URIError) {
      throw Object.assign(err, { message: `Failed to decode param '${value}'`, status: 400, statusCode: 400, expose: true });
    }
    throw err;
  }
}

const ASCII = /^[\x00-\x7f]*$/;

function stringMatcher(pattern: string, tokens: readonly Token[], options: LayerOptions): Matcher {
  const isText = tokens.every((t) => t.type === 'text');
  if (!isText) return compile({ tokens, originalPath: pattern }, { sensitive: options.sensitive, end: options.end, trailing: !options.strict, decode: decodeParam });
  const text = tokens.map((t) => (t as { value: string }).value).join('');
  // Case folding by hand is only exact for ASCII (the regex 'i' flag folds more); else use the regex.
  if (!options.sensitive && !ASCII.test(text)) {
    return compile(pattern, { sensitive: false, end: options.end, trailing: !options.strict, decode: decodeParam });
  }
  return staticMatcher(options.sensitive ? text : text.toLowerCase(), options.sensitive, options.end, !options.strict);
}

/**
 * What path-to-regexp's `^(?:TEXT(?:/$)?)$` (end) or `^(?:TEXT(?:/$)?)(?=/|$)` (prefix) does,
 * as string comparisons.
 */
function staticMatcher(text: string, sensitive: boolean, end: boolean, trailing: boolean): Matcher {
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
function regexpMatcher(re: RegExp): Matcher {
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
