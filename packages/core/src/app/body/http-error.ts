// Errors the body parsers pass to next(): FcgiError, the one error type, with body-parser's `type`
// strings and properties, so Express error handlers that test `err.type === 'entity.too.large'`
// (or multer's `err.code === 'LIMIT_FILE_SIZE'`) keep working.
import { FcgiError } from '../../errors.js';

export interface BodyErrorProps {
  [key: string]: unknown;
}

/** An FcgiError with body-parser's `type` and the properties it names (`limit`, `length`...). */
export type BodyError = FcgiError & { type: string; [key: string]: unknown };

/**
 * `type` 'entity.too.large' gives code 'ERR_FCGI_BODY_ENTITY_TOO_LARGE'; a `code` among `props`
 * (multer's LIMIT_* names, ECONNABORTED) takes its place, as those libraries set it.
 */
export function bodyError(status: number, message: string, type: string, props: BodyErrorProps = {}): BodyError {
  const err = new FcgiError(`ERR_FCGI_BODY_${type.toUpperCase().replace(/\./g, '_')}`, message, {
    status,
  }) as BodyError;
  err.type = type;
  for (const [k, v] of Object.entries(props)) if (v !== undefined) err[k] = v;
  return err;
}

/** True for an error bodyError() made. */
export function isBodyError(err: unknown): err is BodyError {
  return err instanceof FcgiError && typeof (err as { type?: unknown }).type === 'string';
}

/**
 * Gives an error thrown by user code or a parser (a SyntaxError from JSON.parse, a verify
 * failure) an HTTP status and type, unless it already carries a status. The error object itself
 * is kept, so `err instanceof SyntaxError` still holds, as with body-parser.
 */
export function withStatus(err: unknown, status: number, type: string, props: BodyErrorProps = {}): Error {
  const e: Error & Record<string, unknown> =
    err instanceof Error
      ? (err as Error & Record<string, unknown>)
      : (new Error(String(err)) as Error & Record<string, unknown>);
  const own = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const s = own !== undefined && own >= 400 && own < 600 ? own : status;
  e.status = s;
  e.statusCode = s;
  if (typeof e.expose !== 'boolean') e.expose = s < 500;
  if (typeof e.type !== 'string') e.type = type;
  for (const [k, v] of Object.entries(props)) if (v !== undefined && !(k in e)) e[k] = v;
  return e;
}
