// json(): application/json bodies, as body-parser's json parser.
import { createBodyParser, type BodyMiddleware, type ParserOptions } from './body-parser.js';

export interface JsonOptions extends ParserOptions {
  /** Only objects and arrays at the top (default true), as RFC 4627 had it. */
  strict?: boolean;
  /** Passed to JSON.parse. */
  reviver?: (this: any, key: string, value: any) => any;
}

/** JSON whitespace (RFC 8259: space, tab, LF, CR) before the first real character. */
function firstChar(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return c;
  }
  return undefined;
}

export function parseJson(body: string, strict: boolean, reviver?: JsonOptions['reviver']): unknown {
  // An empty body is {} (a common client mistake), as in body-parser.
  if (body.length === 0) return {};
  if (strict) {
    const c = firstChar(body);
    if (c !== '{' && c !== '[') {
      const at = c === undefined ? body.length : body.indexOf(c);
      throw new SyntaxError(
        `Unexpected ${c === undefined ? 'end of input' : `token ${JSON.stringify(c)}`} at position ${at}: ` +
          'a JSON body must be an object or an array (strict mode)',
      );
    }
  }
  try {
    return JSON.parse(body, reviver);
  } catch (err) {
    if (err instanceof SyntaxError) err.message = `Invalid JSON body: ${err.message}`;
    throw err;
  }
}

/** Parses JSON bodies (any utf-* charset) into req.body. */
export function json(options: JsonOptions = {}): BodyMiddleware {
  const strict = options.strict !== false;
  const reviver = options.reviver;
  return createBodyParser(options, {
    defaultType: 'application/json',
    defaultCharset: 'utf-8',
    // RFC 8259 section 8.1: JSON is Unicode.
    acceptCharset: (cs) => cs.startsWith('utf-'),
    parse: (body) => parseJson(body as string, strict, reviver),
  });
}
