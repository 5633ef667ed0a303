// The middleware shell every buffering parser shares (json, urlencoded, text, raw): decide
// whether the request is ours without touching its stream, read it, verify, decode, parse.
import type { Readable } from 'node:stream';
import { parseBytes } from '../../semantics/index.js';
import { decoderFor } from './charset.js';
import { bodyError, withStatus } from './http-error.js';
import { charsetOf, hasBody, typeMatcher, type TypeOption } from './media-type.js';
import { drain, readBody, type BodyRequest } from './read-body.js';
import type { NextFunction } from '../contracts.js';

export type BodyMiddleware = (req: BodyRequest, res: any, next: NextFunction) => void;

/** Options every parser takes, as body-parser names them. */
export interface ParserOptions {
  /** Most bytes of body (after decompression): a number or '100kb', '1mb'... Default '100kb'. */
  limit?: number | string;
  /** Which requests the parser handles: media types, extensions, wildcards, or a predicate. */
  type?: TypeOption<BodyRequest>;
  /** Decompress gzip, deflate and br bodies (default true); false answers them with 415. */
  inflate?: boolean;
  /** Called with the raw body before parsing; throw to reject the request (403 unless the error has a status). */
  verify?: (req: BodyRequest, res: any, buf: Buffer, encoding: string | null) => void;
}

export interface ParserSpec {
  /** The `type` option's default. */
  defaultType: TypeOption<BodyRequest>;
  /** Charset used when the request names none; null: the body stays bytes (raw). */
  defaultCharset: string | null;
  /** Charsets the parser accepts besides being decodable (json: utf-*, urlencoded: utf-8/latin1). */
  acceptCharset?: (charset: string) => boolean;
  /** Turns the (decoded) body into req.body; a throw is a 400 'entity.parse.failed'. */
  parse(body: string | Buffer, charset: string | null): unknown;
}

export const DEFAULT_LIMIT = 100 * 1024;

/** Has a parser already taken this body, or is it gone? Then the next parser must not read. */
function alreadyRead(req: BodyRequest): boolean {
  return req._body === true || (req as Readable).readableEnded || (req as Readable).destroyed;
}

export function createBodyParser(options: ParserOptions, spec: ParserSpec): BodyMiddleware {
  const limit = parseBytes(options.limit, DEFAULT_LIMIT);
  const inflate = options.inflate !== false;
  const verify = options.verify;
  if (verify !== undefined && typeof verify !== 'function') throw new TypeError('option verify must be a function');
  const shouldParse = typeMatcher(options.type ?? spec.defaultType);

  return function bodyParser(req, res, next) {
    if (alreadyRead(req)) return next();
    if (!('body' in req)) req.body = undefined;
    // Not ours: leave the stream alone so a later handler can still read it.
    if (!hasBody(req) || !shouldParse(req)) return next();

    let charset: string | null = null;
    if (spec.defaultCharset !== null) {
      charset = charsetOf(req) ?? spec.defaultCharset;
      if ((spec.acceptCharset && !spec.acceptCharset(charset)) || !decoderFor(charset)) {
        return next(
          bodyError(415, `unsupported charset "${charset.toUpperCase()}"`, 'charset.unsupported', { charset }),
        );
      }
    }

    req._body = true;
    readBody(req, { limit, inflate }).then(
      (buf) => {
        if (verify) {
          try {
            verify(req, res, buf, charset);
          } catch (err) {
            return next(withStatus(err, 403, 'entity.verify.failed', { body: buf }));
          }
        }
        let text: string | Buffer = buf;
        try {
          if (charset !== null) text = decoderFor(charset)!(buf);
          req.body = spec.parse(text, charset);
        } catch (err) {
          return next(withStatus(err, 400, 'entity.parse.failed', { body: text }));
        }
        next();
      },
      (err: unknown) => drain(req, () => next(err)),
    );
  };
}
