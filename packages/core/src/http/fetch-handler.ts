// Web-standard handlers served directly: an object with a `fetch(request)` method (a Hono app, the
// `{ fetch }` Bun and Deno serve) becomes a handler of our request/response.
import type { FcgiRequest } from './request.js';
import type { Handler } from './responder.js';
import type { FcgiResponse } from './response.js';
import { sendWebResponse, webRequest } from './web.js';

/** A Web-standard handler: `fetch(request)` answers a Request with a Response (Hono's app, itty-router's router...). */
export interface FetchApp {
  fetch(request: Request, env: FetchEnv): Response | Promise<Response>;
}

/**
 * The second argument of `fetch`: our request and response underneath, named as @hono/node-server
 * names them, so what reads them there (Hono's getConnInfo() for the client's IP) works here too.
 * Most handlers ignore it.
 */
export interface FetchEnv {
  incoming: FcgiRequest;
  outgoing: FcgiResponse;
}

/** True for an object (not a function) with a `fetch` method: how serve() tells a FetchApp from a (req, res) handler. */
export function isFetchApp(value: unknown): value is FetchApp {
  return typeof value === 'object' && value !== null && typeof (value as { fetch?: unknown }).fetch === 'function';
}

/**
 * The handler that runs `app.fetch` for each request: the Request built from the environ (see
 * webRequest()), the Response sent back streamed (see sendWebResponse()). A throw, a rejection or
 * something not a Response rejects the handler's promise, and the responder answers it with the one
 * error answer (a 500 without stack by default).
 */
export function fetchResponder(app: FetchApp): Handler {
  return async (req, res) => {
    const response = await app.fetch(webRequest(req), { incoming: req, outgoing: res });
    if (!(response instanceof Response)) throw new TypeError('the fetch handler answered something not a Response');
    await sendWebResponse(req, res, response);
  };
}
