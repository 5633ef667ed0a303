// raw(): bodies as a Buffer, as body-parser's raw parser.
import { createBodyParser, type BodyMiddleware, type ParserOptions } from './body-parser.js';

/** Reads application/octet-stream bodies into req.body as a Buffer. */
export function raw(options: ParserOptions = {}): BodyMiddleware {
  return createBodyParser(options, {
    defaultType: 'application/octet-stream',
    defaultCharset: null,
    parse: (body) => body,
  });
}
