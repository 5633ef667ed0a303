// The one renderer of error answers (and of "nothing answered": the 404), for every layer: a bare
// handler that threw, the end of an app's or a router's chain, static files. It logs the error on
// FCGI_STDERR, decides what the client may see, and writes it as HTML, JSON or plain text by the
// request's Accept header.
import { STATUS_CODES } from 'node:http';
import { errorStatus } from '../errors.js';
import { escapeHtml, preferredMediaTypes } from '../semantics/index.js';
import { requestLine } from './log-line.js';
import { FcgiResponse, resetUnsentResponse } from './response.js';

/** The least a response must offer (ours, node:http's, a test double). */
export interface AnswerableResponse {
  statusCode: number;
  statusMessage?: string;
  headersSent: boolean;
  writableEnded: boolean;
  destroyed?: boolean;
  setHeader(name: string, value: string | number): unknown;
  getHeaderNames?(): string[];
  removeHeader?(name: string): unknown;
  end(body?: string): unknown;
  destroy?(err?: Error): unknown;
  /** FCGI_STDERR: where the error is logged (process.stderr when absent). */
  err?(...text: unknown[]): unknown;
}

export interface AnswerableRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: Record<string, string | string[] | undefined>;
}

export interface ErrorAnswerOptions {
  /** 'production' shows only the status line for 5xx; elsewhere the stack is shown. */
  env?: string;
  /** The format when the client states no preference (absent Accept, or *\/*). Default 'text'. */
  fallback?: 'html' | 'text';
}

const HTML_FIRST = ['text/html', 'application/json', 'text/plain'];
const TEXT_FIRST = ['text/plain', 'application/json', 'text/html'];

function pathOf(req: AnswerableRequest): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Logs `err` whole (its stack) on FCGI_STDERR through `res.err()`, which puts the time and the
 * request in front (http/log-line.ts), or on process.stderr with the same line once the response ended.
 */
export function logError(req: AnswerableRequest, res: AnswerableResponse, err: unknown): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  const text = error.stack ?? error.message;
  if (typeof res.err === 'function' && !res.writableEnded) res.err(text);
  else process.stderr.write(`${requestLine(req, text)}\n`);
  return error;
}

/**
 * Answers `err` (or, when it is undefined, "Cannot GET /path" with 404). An error is logged
 * whole on FCGI_STDERR; the client sees its message when it is a 4xx with `expose: true` (as
 * FcgiError and http-errors set for 4xx), else its stack outside production, and only the status
 * line in production. A 4xx error's `headers` go out with it. When bytes already went out, the
 * response can only be cut.
 */
export function answerError(
  req: AnswerableRequest,
  res: AnswerableResponse,
  err: unknown,
  options: ErrorAnswerOptions = {},
): void {
  const missing = err === undefined || err === null;
  const error = missing ? undefined : logError(req, res, err);
  if (res.writableEnded || res.destroyed) return;
  // Headers made final by writeHead() but not sent yet can still be replaced; sent bytes cannot.
  const reopened = res instanceof FcgiResponse ? resetUnsentResponse(res) : !res.headersSent;
  if (!reopened) {
    // Once bytes went out the answer can only be cut short.
    if (error && typeof res.destroy === 'function') res.destroy();
    return;
  }
  const status = missing ? 404 : errorStatus(err);
  const e = err as { expose?: unknown; headers?: unknown } | undefined;
  let text: string;
  if (missing) text = `Cannot ${req.method} ${pathOf(req)}`;
  else if (status < 500 && e?.expose === true) text = error!.message || STATUS_CODES[status] || 'Error';
  else if (options.env !== 'production') text = error!.stack ?? error!.message;
  else text = `${status} ${STATUS_CODES[status] ?? 'Error'}`;

  if (res.getHeaderNames && res.removeHeader) for (const name of res.getHeaderNames()) res.removeHeader(name);
  if (status < 500 && e?.headers && typeof e.headers === 'object') {
    for (const [k, v] of Object.entries(e.headers as Record<string, unknown>))
      if (typeof v === 'string' || typeof v === 'number') res.setHeader(k, v);
  }
  res.statusCode = status;
  if (res.statusMessage !== undefined) res.statusMessage = '';
  // The fallback is offered first: it wins whenever the client accepts all three alike.
  const accept = req.headers?.accept;
  const offered = options.fallback === 'html' ? HTML_FIRST : TEXT_FIRST;
  const format = preferredMediaTypes(Array.isArray(accept) ? accept.join(', ') : accept, offered)[0] ?? offered[0];
  let body: string;
  if (format === 'application/json') {
    body = `${JSON.stringify({ error: { status, message: text } })}\n`;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
  } else if (format === 'text/html') {
    body = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><pre>${escapeHtml(text)}</pre></body></html>\n`;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
  } else {
    body = `${text}\n`;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  }
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Content-Security-Policy', "default-src 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(req.method === 'HEAD' ? undefined : body);
}
