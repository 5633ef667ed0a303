// An app's answer passed to the HTTP client as nginx passes it: a head HTTP cannot carry is a 502,
// the body is held to the app's Content-Length, and an answer cut short closes the client's connection.
import type { ServerResponse } from 'node:http';
import type { FcgiClientResponse } from '../client/index.js';
import { HOP_BY_HOP } from '../http/index.js';

/** What the client gets of an upstream head: the header list for writeHead, and the body's declared length. */
export interface ClientHead {
  headers: string[];
  /** The app's Content-Length, if it sent one. */
  length: number | undefined;
}

// What node:http (and RFC 9110's field-value) allows in a value: HTAB, SP, VCHAR and obs-text.
// PHP's header() refuses only CR, LF and NUL: an app that copies input into a header can send the rest.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d{1,15}$/;

/**
 * The head to send, or why there is none (the client then gets a 502): a 1xx status as the final
 * answer (an interim response is not an answer), a control character in the reason or a header
 * value, a Content-Length that is not a number, or two that differ (RFC 9112, 6.3). Equal
 * repeated Content-Lengths count as one. Status, hop-by-hop and X-Accel-* headers stay behind,
 * as nginx keeps them from the client.
 */
export function clientHead(upstream: FcgiClientResponse): ClientHead | string {
  if (upstream.status < 200) return `upstream sent status ${upstream.status} as its final answer`;
  if (INVALID_VALUE.test(upstream.statusText)) return 'upstream sent a control character in its Status line';
  const headers: string[] = [];
  let length: number | undefined;
  for (const [name, value] of upstream.rawHeaders) {
    const key = name.toLowerCase();
    if (key === 'status' || HOP_BY_HOP.has(key) || key.startsWith('x-accel-')) continue;
    if (INVALID_VALUE.test(value)) return `upstream sent a control character in header "${name}"`;
    if (key === 'content-length') {
      if (!DIGITS.test(value)) return `upstream sent invalid "Content-Length: ${value.slice(0, 40)}"`;
      if (length !== undefined) {
        if (Number(value) !== length) return `upstream sent two different Content-Lengths (${length}, ${value})`;
        continue;
      }
      length = Number(value);
    }
    headers.push(name, value);
  }
  return { headers, length };
}

/**
 * Streams the upstream body to `res` with backpressure. With a declared length: bytes past it are
 * dropped and the client's connection closed after the response (they would read as a second,
 * forged response); fewer bytes, or an END_REQUEST that is not a clean end (appStatus or
 * protocolStatus not 0: @fcgi sends appStatus 1 for a cut response), or the app's connection lost,
 * close the client's connection without ending the response, so the client sees it incomplete
 * instead of waiting for the rest. `bodyAllowed` false (HEAD, 204, 304): node:http drops the bytes.
 */
export function relayBody(
  upstream: FcgiClientResponse,
  res: ServerResponse,
  length: number | undefined,
  bodyAllowed: boolean,
  log: (message: string) => void,
): void {
  const body = upstream.body;
  const limit = bodyAllowed && length !== undefined ? length : Number.POSITIVE_INFINITY;
  let sent = 0;
  let over = false;
  const onDrain = (): void => void body.resume();
  const cut = (why: string): void => {
    if (over) return;
    over = true;
    // A client that went away is no upstream fault.
    if (!res.destroyed) log(why);
    res.off('drain', onDrain);
    res.destroy();
  };
  res.on('drain', onDrain);
  // The body's error is the one `done` rejects with; it may even come before these listeners
  // (the app's connection broke in the read that brought the head), when the body emits nothing.
  body.on('error', () => {});
  upstream.done.catch((err: Error) => {
    if (over || res.destroyed) return;
    // What the client was promised it has (a HEAD, a 204, every byte of the Content-Length): end it, then close.
    if (!bodyAllowed || sent === length) {
      over = true;
      log(`upstream request failed after its answer: ${err.message}`);
      closeAfter(res);
      return void res.end();
    }
    cut(`upstream answer cut short: ${err.message}`);
  });
  body.on('data', (chunk: Buffer) => {
    if (over || res.destroyed) return;
    if (sent + chunk.length <= limit) {
      sent += chunk.length;
      if (!res.write(chunk)) body.pause();
      return;
    }
    over = true;
    res.off('drain', onDrain);
    log(`upstream sent more data than specified in "Content-Length: ${length}"; the rest was dropped`);
    res.write(chunk.subarray(0, limit - sent));
    sent = limit;
    closeAfter(res);
    res.end();
    // Aborts the FastCGI request: its connection is not reused, the rest of the output is not read.
    body.destroy();
  });
  body.on('end', () => {
    if (over) return;
    upstream.done.then(
      ({ appStatus, protocolStatus }) => {
        if (over || res.destroyed) return;
        if (bodyAllowed && length !== undefined && sent < length)
          return cut(`upstream answer cut short: ${sent} of the ${length} bytes of its Content-Length`);
        if (appStatus !== 0 || protocolStatus !== 0) {
          // Complete by its length: the client has it all. Without one it cannot tell; do not end it.
          if (!bodyAllowed || length !== undefined) closeAfter(res);
          else
            return cut(`upstream request ended abnormally (appStatus ${appStatus}, protocolStatus ${protocolStatus})`);
        }
        over = true;
        res.off('drain', onDrain);
        res.end();
      },
      () => {}, // cut by the catch above
    );
  });
}

/** Closes the client's connection once `res` is sent, instead of keeping it alive. */
function closeAfter(res: ServerResponse): void {
  const socket = res.socket;
  if (socket) res.once('finish', () => socket.destroySoon());
}
