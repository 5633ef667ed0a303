// The Responder role: each exchange becomes a request/response pair given to a handler; a handler
// that throws or rejects gets a 500 (or its error's 4xx) and the process serves on.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Exchange, joinRepeatedParam, type ExchangeHost, type ConnectionOptions } from '../connection/index.js';
import { addHeaderParam, type ExchangeHeaders } from './environ.js';
import { Dictionary } from '../protocol/index.js';
import { FcgiRequest, abortRequest, endRequestBody } from './request.js';
import { FcgiResponse, abortResponse, drainResponse } from './response.js';
import { roleName } from './authorizer.js';
import { answerError } from './error-answer.js';

export type Handler = (req: FcgiRequest, res: FcgiResponse) => unknown;
/** A node:http request listener (an Express or Connect app): FcgiRequest/FcgiResponse stand in at run time. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Request and response classes a framework may substitute (subclasses of ours). */
export type RequestClass = new (exchange: Exchange, highWaterMark: number) => FcgiRequest;
export type ResponseClass = new (exchange: Exchange, req: FcgiRequest) => FcgiResponse;

export interface ResponderOptions {
  /** The class of `req`; default FcgiRequest. A handler may also carry it as `handler.Request`. */
  Request?: RequestClass;
  /** The class of `res`; default FcgiResponse. A handler may also carry it as `handler.Response`. */
  Response?: ResponseClass;
  /** Bytes of unread body held per request before the connection pauses. Default 64 KiB. */
  bodyHighWaterMark?: number;
  /** Called for each error a handler throws, after it was written to FCGI_STDERR. */
  onHandlerError?(err: Error, req: FcgiRequest, res: FcgiResponse): void;
}

/** Ties one exchange to its request and response objects. */
class HttpExchange extends Exchange implements ExchangeHeaders {
  req!: FcgiRequest;
  res!: FcgiResponse;
  /**
   * req.headers, built while the params are decoded (one pass over them); null when the environ
   * was given whole (CGI), and then made from it.
   */
  headers: Record<string, string> | null = null;
  override pair(name: string, value: string, repeated: boolean): void {
    const environ = this.environ;
    const v = repeated ? joinRepeatedParam(name, environ[name]!, value) : value;
    environ[name] = v;
    addHeaderParam((this.headers ??= new Dictionary()), name, v);
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
}

/** The connection options that run `handler` as a Responder. */
export function responder(handler: Handler | NodeHandler, options: ResponderOptions = {}): Pick<ConnectionOptions, 'createExchange' | 'dispatch'> {
  const highWaterMark = options.bodyHighWaterMark ?? 64 * 1024;
  const carried = handler as { Request?: RequestClass; Response?: ResponseClass };
  const Request = options.Request ?? carried.Request ?? FcgiRequest;
  const Response = options.Response ?? carried.Response ?? FcgiResponse;
  const onError = options.onHandlerError;
  const fail = (err: unknown, req: FcgiRequest, res: FcgiResponse): void => {
    const error = err instanceof Error ? err : new Error(String(err));
    handlerFailed(error, req, res);
    onError?.(error, req, res);
  };
  return {
    createExchange: (host: ExchangeHost, id: number, role: number, keepConn: boolean) =>
      new HttpExchange(host, id, role, keepConn),
    dispatch(exchange: Exchange): void {
      const ex = exchange as HttpExchange;
      const req = (ex.req = new Request(ex, highWaterMark));
      // An own property, so it survives a framework swapping the request's prototype.
      req.role = roleName(ex.role);
      const res = (ex.res = new Response(ex, req));
      try {
        const result = (handler as Handler)(req, res) as PromiseLike<unknown> | undefined;
        if (result && typeof result.then === 'function') result.then(undefined, (err) => fail(err, req, res));
      } catch (err) {
        fail(err, req, res);
      }
    },
  };
}

/**
 * What happens to a request whose handler failed: the one error answer (http/error-answer.ts) with
 * a bare handler's defaults: plain text unless the client asks otherwise, and no stack for the
 * client (a bare handler has no notion of a development mode).
 */
export function handlerFailed(err: Error, req: FcgiRequest, res: FcgiResponse): void {
  answerError(req, res, err, { env: 'production', fallback: 'text' });
}
