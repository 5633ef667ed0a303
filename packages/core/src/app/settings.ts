// The settings Express compiles when they are set: 'etag', 'query parser' and 'trust proxy' each
// get a companion function setting ('etag fn', 'query parser fn', 'trust proxy fn') that the
// request and response read, so a bad value is refused by app.set() and not by every request.
import { parse as parseSimple } from 'node:querystring';
import qs from 'qs';
import { compileEtag, compileTrust } from '../semantics/index.js';

/** Parses a query string (without its '?'; null when the URL has none, as Express passes it). */
export type QueryParser = (query: string | null) => Record<string, any>;

/** Express 5's 'extended' parser: qs with the options Express gives it. */
function parseExtended(query: string | null): Record<string, any> {
  return qs.parse(query ?? '', { allowPrototypes: true });
}

/** node:querystring's parse: the 'simple' parser, the default. */
export const simpleQuery: QueryParser = (query) => parseSimple(query ?? '');

/**
 * The 'query parser' setting as Express compiles it: 'simple' or true (node:querystring),
 * 'extended' (qs), a function used as is, false for none (req.query is then `{}`).
 */
export function compileQueryParser(value: unknown): QueryParser | undefined {
  if (typeof value === 'function') return value as QueryParser;
  switch (value) {
    case true:
    case 'simple':
      return simpleQuery;
    case false:
      return undefined;
    case 'extended':
      return parseExtended;
    default:
      throw new TypeError(`unknown value for query parser function: ${String(value)}`);
  }
}

/** The names of the compiled companions, by setting. */
const COMPILED: Record<string, [string, (value: unknown) => unknown]> = {
  etag: ['etag fn', compileEtag],
  'query parser': ['query parser fn', compileQueryParser],
  'trust proxy': ['trust proxy fn', compileTrust],
};

/**
 * Stores `value` under `name`, with its compiled companion when it has one. Compiling first means
 * a value Express would refuse throws a TypeError here and is not stored.
 */
export function storeSetting(settings: Record<string, any>, name: string, value: unknown): void {
  const compiled = Object.hasOwn(COMPILED, name) ? COMPILED[name] : undefined;
  const fn = compiled ? compiled[1](value) : undefined;
  settings[name] = value;
  if (compiled) settings[compiled[0]] = fn;
}

/** A new settings object with Express 5's defaults for these three; no Object.prototype members. */
export function defaultSettings(env: string): Record<string, any> {
  const settings: Record<string, any> = Object.create(null);
  settings.env = env;
  storeSetting(settings, 'etag', 'weak');
  storeSetting(settings, 'query parser', 'simple');
  storeSetting(settings, 'trust proxy', false);
  return settings;
}
