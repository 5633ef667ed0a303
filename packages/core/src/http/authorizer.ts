// The Authorizer role (FastCGI 1.0, section 6.3): the web server asks the app whether a request may
// go on. A 200 allows it, and each `Variable-NAME: value` header becomes a request variable for
// whatever handles the request next (Apache: an environment variable of a CGI script, a param of
// a FastCGI responder); any other status, its headers and body are the client's answer.
// Apache's mod_fcgid sends it for FcgidAuthorizer, FcgidAuthenticator and FcgidAccessChecker (and
// tells which in FCGI_APACHE_ROLE). A server serves it only when asked: ServerOptions.roles.
import { STATUS_CODES } from 'node:http';
import { Role } from '../protocol/index.js';
import type { FcgiRequest } from './request.js';
import type { FcgiResponse } from './response.js';

export type RoleName = 'responder' | 'authorizer';

declare module './request.js' {
  interface FcgiRequest {
    /** The FastCGI role of this request: 'responder', or 'authorizer' on a server that serves it. */
    role: RoleName;
  }
}

/** The name of a role number that reached a handler. */
export function roleName(role: number): RoleName {
  return role === Role.AUTHORIZER ? 'authorizer' : 'responder';
}

/** Role numbers for ServerOptions.roles; the Filter role (its DATA stream) is not supported. */
export function roleNumbers(roles: readonly (RoleName | number)[]): number[] {
  const out = roles.map((r) => {
    if (r === 'responder' || r === Role.RESPONDER) return Role.RESPONDER;
    if (r === 'authorizer' || r === Role.AUTHORIZER) return Role.AUTHORIZER;
    throw new RangeError(`unsupported FastCGI role ${JSON.stringify(r)}: use 'responder' and/or 'authorizer'`);
  });
  if (out.length === 0) throw new RangeError('roles must name at least one role');
  return [...new Set(out)];
}

/** Grants an Authorizer request: status 200, each variable as a `Variable-NAME` header, no body. */
export function allow(res: FcgiResponse, variables: Readonly<Record<string, string>> = {}): void {
  res.statusCode = 200;
  for (const [name, value] of Object.entries(variables)) res.setHeader(`Variable-${name}`, value);
  res.end();
}

/** Refuses: `status` (default 403), `headers` and `body` go to the client. */
export function deny(
  res: FcgiResponse,
  status = 403,
  body?: string | Uint8Array,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (status === 200) throw new RangeError('deny() with status 200 would allow the request');
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined) {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`${status} ${STATUS_CODES[status] ?? 'Error'}\n`);
  } else {
    res.end(body);
  }
}

/** What an authorizer's decision may be. */
export type AuthorizerResult =
  | boolean
  | null
  | undefined
  /** Allowed, with request variables for the next handler. */
  | { variables: Readonly<Record<string, string>>; status?: 200 }
  /** Refused with this answer (e.g. 401 with a WWW-Authenticate header). */
  | { status: number; body?: string | Uint8Array; headers?: Readonly<Record<string, string>> };

interface AuthorizerRequest {
  role?: RoleName;
}

/**
 * A handler (or middleware) for Authorizer requests: `decide` says yes (true, or the variables to
 * pass on), no (false: 403) or how to refuse. A responder request goes to `next` when there is
 * one, else gets a 404. A thrown error refuses with a 500 (or goes to `next(err)`).
 */
export function authorizer<Req extends AuthorizerRequest = FcgiRequest, Res extends FcgiResponse = FcgiResponse>(
  decide: (req: Req) => AuthorizerResult | Promise<AuthorizerResult>,
): (req: Req, res: Res, next?: (err?: unknown) => void) => Promise<void> {
  return async (req, res, next) => {
    if (req.role !== 'authorizer') {
      if (next) return next();
      return deny(res, 404, 'Not an Authorizer request\n', { 'Content-Type': 'text/plain; charset=utf-8' });
    }
    let result: AuthorizerResult;
    try {
      result = await decide(req);
    } catch (err) {
      if (next) return next(err);
      throw err;
    }
    if (result === true) return allow(res);
    if (!result) return deny(res);
    if ('variables' in result && (result.status === undefined || result.status === 200))
      return allow(res, result.variables);
    const {
      status = 403,
      body,
      headers,
    } = result as { status?: number; body?: string | Uint8Array; headers?: Record<string, string> };
    if (status === 200) return allow(res);
    return deny(res, status, body, headers);
  };
}
