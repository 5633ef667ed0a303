// text(): bodies as a string, as body-parser's text parser.
import { createBodyParser, type BodyMiddleware, type ParserOptions } from './body-parser.js';

export interface TextOptions extends ParserOptions {
  /** Charset when the Content-Type names none (default utf-8). */
  defaultCharset?: string;
}

/** Reads text/plain bodies (any charset TextDecoder knows) into req.body as a string. */
export function text(options: TextOptions = {}): BodyMiddleware {
  return createBodyParser(options, {
    defaultType: 'text/plain',
    defaultCharset: options.defaultCharset ?? 'utf-8',
    parse: (body) => body,
  });
}
