// Media types (RFC 9110 8.3): Content-Type parsed by the content-type package, and "is the body of
// this type?" answered by type-is (Express's req.is(), body-parser's `type` option).
import { format, parse } from 'content-type';
import lazy from './lazy.cjs';

export interface MediaType {
  /** `type/subtype`, lower case. */
  type: string;
  /** Parameter names lower case; values as sent (quotes and escapes removed). */
  params: Record<string, string>;
}

const TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses a Content-Type value; null when its type is not `type/subtype`. Parameters follow
 * content-type 2 (as body-parser 2 reads them): one without '=' or with an unclosed quote is
 * skipped, the first of a repeated name wins.
 */
export function parseMediaType(value: string | undefined): MediaType | null {
  if (!value) return null;
  const parsed = parse(value);
  return TYPE.test(parsed.type) ? { type: parsed.type, params: parsed.parameters } : null;
}

/**
 * `type` with its charset parameter set to `charset` (replaced in place, else appended), written
 * back by content-type's format() as Express's res.send() does. A value it cannot format is
 * returned unchanged.
 */
export function setCharset(type: string, charset: string): string {
  if (!type || !charset) return type;
  const parsed = parse(type);
  parsed.parameters.charset = charset;
  try {
    return format(parsed);
  } catch {
    return type;
  }
}

/**
 * The type of a Content-Type value, lower case and without parameters; null when the value is
 * missing or its type is malformed (only the type is checked, as type-is 2.1 does).
 */
export function normalizeContentType(value: string | undefined): string | null {
  return (value && lazy.typeis().is(value, [])) || null;
}

/** A type as given to is(): shortcuts ('urlencoded', 'multipart'), '+json' and extensions become full types; false when unknown. */
export function normalizeType(type: string): string | false {
  return lazy.typeis().normalize(type);
}

/** Does `actual` (a normalized type) match `expected` (wildcards and '*+suffix' allowed)? */
export function mimeMatch(expected: string | false, actual: string): boolean {
  return lazy.typeis().match(expected, actual);
}

/**
 * The first of `types` that `contentType` matches: the type as given, or for wildcards and
 * suffixes the actual type; with no types, the actual type; false when nothing matches or the
 * Content-Type is missing or malformed.
 */
export function typeIs(contentType: string | undefined, types: readonly string[]): string | false {
  return contentType ? lazy.typeis().is(contentType, types as string[]) : false;
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Has the request a body? A Transfer-Encoding, or a Content-Length that is a number (even 0). */
export function hasBody(headers: Headers): boolean {
  return lazy.typeis().hasBody({ headers } as never);
}

/** req.is(): null when the request has no body, else as typeIs() on its Content-Type. */
export function requestTypeIs(headers: Headers, types: readonly string[]): string | false | null {
  if (!hasBody(headers)) return null;
  const value = headers['content-type'];
  return typeIs(typeof value === 'string' ? value : undefined, types);
}
