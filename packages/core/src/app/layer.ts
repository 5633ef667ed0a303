// One entry of a stack: the paths it answers for, compiled by the stack's matcher, and the
// function it runs (middleware, an error handler, or the dispatcher of a Route).
import type { CompiledPath, Matcher, MatchOptions, PathMatch } from './matcher.js';
import type { Route } from './route.js';
import type { PathArg } from './route-types.js';

type Fn = (...args: any[]) => unknown;

export class Layer {
  readonly handle: Fn;
  readonly name: string;
  /** The path as given (nested lists flattened). */
  readonly path: string | RegExp | readonly (string | RegExp)[];
  readonly options: MatchOptions;
  /** Four parameters: an error handler. */
  readonly error: boolean;
  /** use('/'): matches every path without looking at it. */
  readonly slash: boolean;
  /** Set for the layer that runs a Route. */
  readonly route: Route | undefined;
  readonly compiled: readonly CompiledPath[];

  constructor(path: PathArg, options: MatchOptions, fn: Fn, matcher: Matcher, route?: Route) {
    this.handle = fn;
    this.name = fn.name || '<anonymous>';
    this.options = options;
    this.error = fn.length === 4 && route === undefined;
    this.route = route;
    const list = (Array.isArray(path) ? (path as unknown[]).flat(Infinity as 1) : [path]) as (string | RegExp)[];
    for (const p of list) {
      if (typeof p !== 'string' && !(p instanceof RegExp))
        throw new TypeError(`a path must be a string or a RegExp, got ${typeof p}`);
    }
    this.path = Array.isArray(path) ? list : (path as string | RegExp);
    this.slash = path === '/' && !options.end;
    this.compiled = list.map((p) => matcher.compile(p, options));
  }

  /** The params and matched part when `path` matches (throws a 400 error for a malformed escape). */
  match(path: string): PathMatch | false {
    if (this.slash) return { params: {}, path: '' };
    const compiled = this.compiled;
    for (let i = 0; i < compiled.length; i++) {
      const m = compiled[i]!.match(path);
      if (m) return m;
    }
    return false;
  }
}
