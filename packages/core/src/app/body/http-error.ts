// Errors the body parsers pass to next(): an HTTP status plus body-parser's `type` strings, so
// Express error handlers that test `err.type === 'entity.too.large'` keep working.

export interface HttpErrorProps {
  [key: string]: unknown;
}

export class HttpError extends Error {
  override name = 'HttpError';
  status: number;
  statusCode: number;
  /** True when the message is safe to show to the client (every 4xx). */
  expose: boolean;
  /** A stable name for what went wrong, as body-parser uses: 'entity.too.large', ... */
  type: string;
  [key: string]: unknown;

  constructor(status: number, message: string, type: string, props: HttpErrorProps = {}) {
    super(message);
    this.status = status;
    this.statusCode = status;
    this.expose = status < 500;
    this.type = type;
    for (const [k, v] of Object.entries(props)) if (v !== undefined) this[k] = v;
  }
}

export function httpError(status: number, message: string, type: string, props?: HttpErrorProps): HttpError {
  return new HttpError(status, message, type, props);
}

/**
 * Gives an error thrown by user code or a parser (a SyntaxError from JSON.parse, a verify
 * failure) an HTTP status and type, unless it already carries a status. The error object itself
 * is kept, so `err instanceof SyntaxError` still holds, as with body-parser.
 */
export function withStatus(err: unknown, status: number, type: string, props: HttpErrorProps = {}): Error {
  const e: Error & Record<string, unknown> = err instanceof Error
    ? (err as Error & Record<string, unknown>)
    : new Error(String(err)) as Error & Record<string, unknown>;
  const own = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const s = own !== undefined && own >= 400 && own < 600 ? own : status;
  e.status = s;
  e.statusCode = s;
  if (typeof e.expose !== 'boolean') e.expose = s < 500;
  if (typeof e.type !== 'string') e.type = type;
  for (const [k, v] of Object.entries(props)) if (v !== undefined && !(k in e)) e[k] = v;
  return e;
}
