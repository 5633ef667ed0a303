// urlencoded(): application/x-www-form-urlencoded bodies, as body-parser's urlencoded parser:
// `extended: false` reads them with node:querystring, `extended: true` with semantics/nested-query.ts.
import { parse as parseQuerystring } from 'node:querystring';
import { parseNested } from '../../semantics/index.js';
import { createBodyParser, type BodyMiddleware, type ParserOptions } from './body-parser.js';
import { bodyError } from './http-error.js';

export interface UrlencodedOptions extends ParserOptions {
  /** Nested keys (`a[b]=1`, `a[]=1`) when true; flat keys through node:querystring when false (default). */
  extended?: boolean;
  /** Most parameters (default 1000); more is a 413. */
  parameterLimit?: number;
  /** Most bracket levels in a key with `extended` (default 32); more is a 400. */
  depth?: number;
  /** utf-8 (default) or iso-8859-1: the charset when the Content-Type names none. */
  defaultCharset?: string;
}

/** Percent-decoding for a charset; a string with malformed escapes stays as it is (as qs does). */
function decoder(charset: string): (s: string) => string {
  if (charset === 'utf-8') return decodeUtf8;
  return (s) => s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function decodeUtf8(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** How many parameters `body` holds, or undefined once it exceeds `limit`. */
function countParameters(body: string, limit: number): number | undefined {
  let count = 1;
  for (let i = body.indexOf('&'); i >= 0; i = body.indexOf('&', i + 1)) {
    if (++count > limit) return undefined;
  }
  return count;
}

export function urlencoded(options: UrlencodedOptions = {}): BodyMiddleware {
  const extended = options.extended === true;
  const parameterLimit = options.parameterLimit ?? 1000;
  const depth = options.depth ?? 32;
  const defaultCharset = (options.defaultCharset ?? 'utf-8').toLowerCase();
  if (!(parameterLimit >= 1)) throw new TypeError('option parameterLimit must be a positive number');
  if (!(depth >= 0)) throw new TypeError('option depth must be zero or a positive number');
  if (defaultCharset !== 'utf-8' && defaultCharset !== 'iso-8859-1') {
    throw new TypeError('option defaultCharset must be either utf-8 or iso-8859-1');
  }

  const parse = (body: string, charset: string): unknown => {
    if (body.length === 0) return Object.create(null);
    const count = countParameters(body, parameterLimit);
    if (count === undefined) {
      throw bodyError(413, `too many parameters (limit ${parameterLimit})`, 'parameters.too.many', {
        limit: parameterLimit,
      });
    }
    const decode = decoder(charset === 'utf-8' ? 'utf-8' : 'iso-8859-1');
    if (!extended) return parseQuerystring(body, '&', '=', { maxKeys: 0, decodeURIComponent: decode });
    try {
      return parseNested(body, { depth, arrayLimit: Math.max(100, count), decode });
    } catch (err) {
      if (err instanceof RangeError) {
        throw bodyError(400, `The input exceeded the depth: ${err.message}`, 'querystring.parse.rangeError', { depth });
      }
      throw err;
    }
  };

  return createBodyParser(options, {
    defaultType: 'application/x-www-form-urlencoded',
    defaultCharset,
    acceptCharset: (cs) => cs === 'utf-8' || cs === 'iso-8859-1',
    parse: (body, charset) => parse(body as string, charset!),
  });
}
