// Is the body of this type? Content-Type matching with the semantics of the type-is package that
// Express's req.is() uses: extensions ('json'), wildcards ('application/*', '*/*'), structured
// suffixes ('+json'), and the shortcuts 'urlencoded' and 'multipart'.
import { lookup } from 'mime-types';

// media-typer's check of a type (RFC 6838 names), applied to the part before any ';'.
const RFC6838_RE = /^ *([A-Za-z0-9][A-Za-z0-9!#$&^_-]{0,126})\/([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}) *$/;

/**
 * The type of a Content-Type value, lower case and without parameters; null when the value is
 * missing or its type is malformed. Parameters are not checked (type-is 2.1 reads only the type).
 */
export function normalizeContentType(value: string | undefined): string | null {
  if (!value) return null;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
  return RFC6838_RE.test(type) ? type : null;
}

/** A type as given to is(): shortcuts and extensions become full types; false when unknown. */
export function normalizeType(type: string): string | false {
  if (typeof type !== 'string') return false;
  if (type === 'urlencoded') return 'application/x-www-form-urlencoded';
  if (type === 'multipart') return 'multipart/*';
  if (type[0] === '+') return `*/*${type}`; // "+json" -> "*/*+json"
  return type.includes('/') ? type : lookup(type);
}

/** Does `actual` (a normalized type) match `expected` (wildcards and '*+suffix' allowed)? */
export function mimeMatch(expected: string | false, actual: string): boolean {
  if (expected === false) return false;
  const a = actual.split('/');
  const e = expected.split('/');
  if (a.length !== 2 || e.length !== 2) return false;
  const [eType, eSub] = e as [string, string];
  const [aType, aSub] = a as [string, string];
  if (eType !== '*' && eType !== aType) return false;
  if (eSub.startsWith('*+')) {
    // '*+json' matches 'ld+json' and 'vnd.api+json': the subtype must end with '+json'.
    return eSub.length <= aSub.length + 1 && aSub.endsWith(eSub.slice(1));
  }
  return eSub === '*' || eSub === aSub;
}

/**
 * The first of `types` that `contentType` matches: the type as given, or for wildcards and
 * suffixes the actual type; with no types, the actual type; false when nothing matches or the
 * Content-Type is missing or malformed.
 */
export function typeIs(contentType: string | undefined, types: readonly string[]): string | false {
  const actual = normalizeContentType(contentType);
  if (!actual) return false;
  if (types.length === 0) return actual;
  for (const type of types) {
    if (mimeMatch(normalizeType(type), actual)) {
      return type[0] === '+' || type.includes('*') ? actual : type;
    }
  }
  return false;
}

/** Has the request a body? A Transfer-Encoding, or a Content-Length that is a number (even 0). */
export function hasBody(headers: Readonly<Record<string, string | undefined>>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && !Number.isNaN(Number(length)));
}

/** req.is(): null when the request has no body, else as typeIs() on its Content-Type. */
export function requestTypeIs(headers: Readonly<Record<string, string | undefined>>, types: readonly string[]): string | false | null {
  if (!hasBody(headers)) return null;
  return typeIs(headers['content-type'], types);
}
