// What answers when the chain ends: a 404 when nobody responded, or the error nobody handled.
import { STATUS_CODES } from 'node:http';
import { resetUnsentResponse } from '../http/response.js';
import type { AppRequest } from './request.js';
import type { AppResponse } from './response.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The status an error asks for: its `status` or `statusCode` when 4xx/5xx, else 500. */
export function errorStatus(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const s = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 0;
  return s >= 400 && s < 600 ? s : 500;
}

function page(res: AppResponse, status: number, text: string, headers?: Record<string, string>): void {
  const body = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><pre>${escapeHtml(text)}</pre></body></html>\n`;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.statusCode = status;
  res.statusMessage = '';
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', "default-src 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

/**
 * The end of the top-level chain. No error: 404 "Cannot GET /path". An error: logged to
 * FCGI_STDERR always; the client sees its message for a 4xx (unless `expose` is false), the stack
 * outside production for a 5xx, and only the status text in production.
 */
export function finalHandler(req: AppRequest, res: AppResponse, env: string, err: unknown): void {
  if (err === undefined || err === null) {
    if (res.headersSent || res.writableEnded) return;
    page(res, 404, `Cannot ${req.method} ${req.originalUrl.split('?')[0]}`);
    return;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  const status = errorStatus(err);
  res.err(`${req.method} ${req.originalUrl}: ${error.stack ?? error.message}`);
  if (res.writableEnded || res.destroyed) return;
  // Once bytes went out the response can only be cut; headers made final but unsent can be replaced.
  if (!resetUnsentResponse(res)) {
    res.destroy();
    return;
  }
  const expose = (err as { expose?: unknown }).expose;
  let text: string;
  if (status < 500 && expose !== false) text = error.message || STATUS_CODES[status] || 'Error';
  else if (env !== 'production') text = error.stack ?? error.message;
  else text = STATUS_CODES[status] ?? 'Error';
  const headers = (err as { headers?: Record<string, string> }).headers;
  page(res, status, text, status < 500 && headers && typeof headers === 'object' ? headers : undefined);
}
