// The FastCGI transport: a connection's exchange that carries one request and response. Its
// output methods (write, end, stderr, destroy) frame STDOUT, STDERR and END_REQUEST records.
import { Exchange, type Refusal } from '../connection/index.js';
import { addHeaderParam, newHeaders } from './environ.js';
import { refusalAnswer } from './refusals.js';
import { abortRequest, endRequestBody, type FcgiRequest } from './request.js';
import { abortResponse, drainResponse, type FcgiResponse } from './response.js';
import type { Transport } from './sink.js';

/**
 * nginx before 1.23 (Debian 12 ships 1.22) sends a header that came on several lines as several
 * HTTP_* params of one name: join them as HTTP would (cookies with "; ", others with ", ")
 * instead of keeping only the last. Other repeated params: the last one wins.
 */
export function joinRepeatedParam(name: string, earlier: string, later: string): string {
  if (!name.startsWith('HTTP_')) return later;
  return earlier + (name === 'HTTP_COOKIE' ? '; ' : ', ') + later;
}

/** One exchange of a FastCGI connection as an HTTP request/response pair. */
export class FastCgiTransport extends Exchange implements Transport {
  /** Set before the handler runs (see handlerRunner). */
  req!: FcgiRequest;
  res!: FcgiResponse;
  /**
   * req.headers, built while the params are decoded (one pass over them); null until an HTTP_*
   * param came.
   */
  headers: Record<string, string> | null = null;
  /** req.rawHeaders, built alongside `headers`: a repeated param's values each apart. */
  rawHeaders: string[] | null = null;

  override pair(name: string, value: string, repeated: boolean): void {
    const environ = this.environ;
    const v = repeated ? joinRepeatedParam(name, environ[name]!, value) : value;
    environ[name] = v;
    addHeaderParam((this.headers ??= newHeaders()), (this.rawHeaders ??= []), name, v, value);
  }
  override onBody(chunk: Buffer): boolean {
    return this.req.push(chunk);
  }
  override onBodyEnd(): void {
    endRequestBody(this.req);
  }
  override onAbort(reason: Error): void {
    abortRequest(this.req, reason);
    abortResponse(this.res, reason);
  }
  override onDrain(): void {
    drainResponse(this.res);
  }
  override answerFor(why: Refusal): string {
    return refusalAnswer(why);
  }
}
