// `patterns`: the matcher that gives apps and routers path-to-regexp's syntax (`:param`, `*splat`,
// `{optional}`, `:"quoted"`), as Express 5 reads paths, with an index over each stack (lookup.ts).
// Literal text and RegExps are compiled by the core's own matcher; only patterns need the library.
import {
  literalPaths,
  literalMatch,
  loosen,
  decodeParam,
  type CompiledPath,
  type Matcher,
  type MatchOptions,
  type PathMatch,
} from '@fcgi/core';
import { match as compile, parse, type Token } from 'path-to-regexp';
import { LayerIndex } from './lookup.js';

/** A compiled path and its tokens (null for a RegExp), which the index reads. */
export class Pattern implements CompiledPath {
  constructor(
    readonly match: (path: string) => PathMatch | false,
    readonly tokens: readonly Token[] | null,
  ) {}
}

function compilePattern(path: string | RegExp, options: MatchOptions): Pattern {
  if (path instanceof RegExp) return new Pattern(literalPaths.compile(path, options).match, null);
  const text = options.strict ? path : loosen(path);
  const tokens = parse(text).tokens;
  if (tokens.every((t) => t.type === 'text')) {
    return new Pattern(literalMatch(tokens.map((t) => (t as { value: string }).value).join(''), options), tokens);
  }
  const fn = compile(
    { tokens, originalPath: text },
    { sensitive: options.sensitive, end: options.end, trailing: !options.strict, decode: decodeParam },
  );
  return new Pattern(fn as (path: string) => PathMatch | false, tokens);
}

/** path-to-regexp v8/v9 paths for createApp({ matcher: patterns }) and Router({ matcher: patterns }). */
export const patterns: Matcher = {
  name: 'path-to-regexp',
  compile: compilePattern,
  index: (layers, sensitive) =>
    new LayerIndex(
      layers.map((l) => ({ tokens: l.compiled.map(tokensOf), end: l.options.end, slash: l.slash })),
      sensitive,
    ),
};

/** The tokens of a path compiled here; null (no constraint) for one compiled elsewhere. */
function tokensOf(c: CompiledPath): readonly Token[] | null {
  return c instanceof Pattern ? c.tokens : null;
}
