// The Responder role: each request a transport carries (a FastCGI exchange, a CGI process, an
// in-process call) becomes a request/response pair given to a handler; a handler that throws or
// rejects gets a 500 (or its error's 4xx) and the process serves on.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionOptions, ExchangeHost } from '../connection/index.js';
import { FcgiRequest } from './request.js';
import { FcgiResponse } from './response.js';
import { answerError } from './error-answer.js';
import { applyBase, type BasePath } from './base-path.js';
import { roleName } from './authorizer.js';
import { FastCgiTransport } from './sink-fastcgi.js';
import type { Transport } from './sink.js';

export type Handler = (req: FcgiRequest, res: FcgiResponse) => unknown;
/** A node:http request listener (an Express or Connect app): FcgiRequest/FcgiResponse stand in at run time. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Request and response classes a framework may substitute (subclasses of ours). */
export type RequestClass = new (transport: Transport, highWaterMark: number) => FcgiRequest;
export type ResponseClass = new (transport: Transport, req: FcgiRequest) => FcgiResponse;

export interface ResponderOptions {
  /** The class of `req`; default FcgiRequest. A handler may also carry it as `handler.Request`. */
  Request?: RequestClass;
  /** The class of `res`; default FcgiResponse. A handler may also carry it as `handler.Response`. */
  Response?: ResponseClass;
  /** Bytes of unread body held per request before the connection pauses. Default 64 KiB. */
  bodyHighWaterMark?: number;
  /**
   * Where the app sits in the site (default 'auto': read from PATH_INFO / SCRIPT_NAME, so routes see
   * the path below `/~alice/sub` or `/sub/app.fcgi`); a fixed prefix such as '/app'; or false to
   * give handlers the whole URL. `req.baseUrl` holds the base, `req.originalUrl` the whole URL.
   */
  basePath?: BasePath;
  /** Called for each error a handler throws, after it was written to FCGI_STDERR. */
  onHandlerError?(err: Error, req: FcgiRequest, res: FcgiResponse): void;
}

/** A transport that feeds one request and response: it holds them from before the handler runs. */
export interface Carrier extends Transport {
  req: FcgiRequest;
  res: FcgiResponse;
}

/**
 * Runs `handler` on a transport: makes its request and response (given to the carrier before the
 * handler runs, so it can feed them), and answers a throw or rejection with handlerFailed().
 */
export function handlerRunner(
  handler: Handler | NodeHandler,
  options: ResponderOptions = {},
): (carrier: Carrier) => void {
  const highWaterMark = options.bodyHighWaterMark ?? 64 * 1024;
  const carried = handler as { Request?: RequestClass; Response?: ResponseClass };
  const Request = options.Request ?? carried.Request ?? FcgiRequest;
  const Response = options.Response ?? carried.Response ?? FcgiResponse;
  const onError = options.onHandlerError;
  const basePath = options.basePath ?? 'auto';
  const fail = (err: unknown, req: FcgiRequest, res: FcgiResponse): void => {
    const error = err instanceof Error ? err : new Error(String(err));
    handlerFailed(error, req, res);
    onError?.(error, req, res);
  };
  return (carrier) => {
    const req = (carrier.req = new Request(carrier, highWaterMark));
    applyBase(req, basePath);
    // An own property, so it survives a framework swapping the request's prototype.
    req.role = roleName(carrier.role);
    const res = (carrier.res = new Response(carrier, req));
    try {
      const result = (handler as Handler)(req, res) as PromiseLike<unknown> | undefined;
      if (result && typeof result.then === 'function') result.then(undefined, (err) => fail(err, req, res));
    } catch (err) {
      fail(err, req, res);
    }
  };
}

/** The connection options that run `handler` as a Responder over FastCGI. */
export function responder(
  handler: Handler | NodeHandler,
  options: ResponderOptions = {},
): Pick<ConnectionOptions, 'createExchange' | 'dispatch'> {
  const run = handlerRunner(handler, options);
  return {
    createExchange: (host: ExchangeHost, id: number, role: number, keepConn: boolean) =>
      new FastCgiTransport(host, id, role, keepConn),
    dispatch: (exchange) => run(exchange as FastCgiTransport),
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
