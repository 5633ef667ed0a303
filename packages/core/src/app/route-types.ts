// The shapes routes work with, and `req.params` typed from a literal path (path-to-regexp v9
// syntax): `:id` -> string, `*rest` -> string[], anything inside `{...}` optional, `:"quoted name"`.
import type { AppRequest } from './request.js';
import type { AppResponse } from './response.js';
import type { Mountable, NextFunction } from './types.js';

/** Route parameters when nothing better is known. */
export type Params = Record<string, any>;

/** The request a route handler sees: `params` typed from the route's path. */
export interface RouteRequest<P extends Params = Params> extends AppRequest {
  params: P;
}

export type RequestHandler<P extends Params = Params> = (
  req: RouteRequest<P>,
  res: AppResponse,
  next: NextFunction,
) => unknown;

/** Four parameters: runs only while an error is being passed along. */
export type ErrorHandler<P extends Params = Params> = (
  err: any,
  req: RouteRequest<P>,
  res: AppResponse,
  next: NextFunction,
) => unknown;

/** Handlers may come nested in arrays, as in Express. */
export type Handlers<P extends Params = Params> = RequestHandler<P> | readonly Handlers<P>[];
/**
 * Any mix of handlers and error handlers (and middleware typed for other frameworks). In a mix,
 * parameters are not inferred: annotate them (the same holds with Express's types).
 */
export type AnyHandlers<P extends Params = Params> = ((...args: any[]) => unknown) | readonly AnyHandlers<P>[];

/** What `use()` takes besides functions: sub-apps and anything else with a Connect-style `handle`. */
export type UseHandlers = AnyHandlers | Mountable | readonly UseHandlers[];

/** `router.param(name, fn)`: runs before the first handler of a layer whose path has `:name`. */
export type ParamCallback = (
  req: RouteRequest,
  res: AppResponse,
  next: NextFunction,
  value: any,
  name: string,
) => unknown;

/** A path: path-to-regexp text, a RegExp, or a list of them (first match wins). */
export type PathArg = string | RegExp | readonly PathArg[];

// ---- Params from a literal path ----

type Stop =
  | '/'
  | '.'
  | '-'
  | '{'
  | '}'
  | ':'
  | '*'
  | '\\'
  | '"'
  | ' '
  | '('
  | ')'
  | '['
  | ']'
  | '+'
  | '?'
  | '!'
  | ','
  | ';'
  | '='
  | '&'
  | '@'
  | '~'
  | '%'
  | '#'
  | "'"
  | '<'
  | '>'
  | '|'
  | '^'
  | '`';

/** Reads an unquoted name: [name, rest]. */
type ReadName<S extends string, N extends string = ''> = S extends `${infer C}${infer R}`
  ? C extends Stop
    ? [N, S]
    : ReadName<R, `${N}${C}`>
  : [N, S];

/** Reads a quoted name after its opening quote: [name, rest after the closing quote]. */
type ReadQuoted<S extends string, N extends string = ''> = S extends `\\${infer C}${infer R}`
  ? ReadQuoted<R, `${N}${C}`>
  : S extends `"${infer R}`
    ? [N, R]
    : S extends `${infer C}${infer R}`
      ? ReadQuoted<R, `${N}${C}`>
      : [N, ''];

interface Key<N extends string, W extends boolean, O extends boolean> {
  name: N;
  wildcard: W;
  optional: O;
}

/** Every parameter of path S, with whether it is a wildcard and whether it sits inside `{...}`. */
type Scan<S extends string, D extends unknown[] = [], Out = never> = S extends `${infer C}${infer R}`
  ? C extends '\\'
    ? R extends `${infer _}${infer R2}`
      ? Scan<R2, D, Out>
      : Out
    : C extends '{'
      ? Scan<R, [...D, 0], Out>
      : C extends '}'
        ? Scan<R, D extends [unknown, ...infer T] ? T : [], Out>
        : C extends ':' | '*'
          ? (R extends `"${infer Q}` ? ReadQuoted<Q> : ReadName<R>) extends [
              infer N extends string,
              infer Rest extends string,
            ]
            ? Scan<
                Rest,
                D,
                N extends '' ? Out : Out | Key<N, C extends '*' ? true : false, D extends [] ? false : true>
              >
            : Out
          : Scan<R, D, Out>
  : Out;

type ValueOf<K> = K extends Key<string, true, boolean> ? string[] : string;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** `req.params` for a literal path: `ParamsOf<'/users/:id{/*rest}'>` is `{ id: string; rest?: string[] }`. */
export type ParamsOf<P extends string> = string extends P
  ? Params
  : Simplify<
      { [K in Scan<P> as K extends Key<infer N, boolean, false> ? N : never]: ValueOf<K> } & {
        [K in Scan<P> as K extends Key<infer N, boolean, true> ? N : never]?: ValueOf<K>;
      }
    >;

/**
 * `req.params` for any path argument: a RegExp gives its groups by name or position (strings);
 * a list gives each path's parameters, all optional (only one path matched).
 */
export type ParamsFor<P> = P extends string
  ? ParamsOf<P>
  : P extends RegExp
    ? Record<string, string>
    : P extends readonly (infer E)[]
      ? [E] extends [string]
        ? Partial<ParamsOf<E>>
        : Params
      : Params;

/** Parameters inherited from a parent (mergeParams) plus the path's own. */
export type Merged<M extends Params, P> = Simplify<M & ParamsFor<P>>;
