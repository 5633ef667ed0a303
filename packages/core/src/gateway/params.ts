// An HTTP request as FastCGI params, the way nginx's stock fastcgi_params (Debian) builds them.
import type { IncomingMessage } from 'node:http';
import { headerParamName } from '../client/header-param.js';
import { httpError } from '../errors.js';
import { normalizePath, splitTarget } from './uri.js';

export interface ParamsOptions {
  /** DOCUMENT_ROOT (nginx: $document_root). Default: the working directory. */
  documentRoot?: string;
  /**
   * Also send SCRIPT_FILENAME = DOCUMENT_ROOT + SCRIPT_NAME, as Debian's fastcgi.conf (and
   * snippets/fastcgi-php.conf) do: PHP-FPM finds the script by it. Default false (fastcgi_params).
   */
  scriptFilename?: boolean;
  /** SERVER_SOFTWARE. */
  serverSoftware?: string;
  /**
   * SERVER_NAME. Default: the name the client asked for (Host, or an absolute-form target) without
   * its port, as Apache's `UseCanonicalName Off` does (nginx sends its `server_name`); with neither,
   * the address the request came in on.
   */
  serverName?: string;
  /** Extra params, added last (they win). */
  extra?: Readonly<Record<string, string>>;
}

/**
 * Params for `req` as nginx with Debian's fastcgi_params sends them: QUERY_STRING, REQUEST_METHOD,
 * CONTENT_TYPE, CONTENT_LENGTH (empty strings when absent), SCRIPT_NAME and DOCUMENT_URI (the
 * path decoded and normalized, as $uri), REQUEST_URI, DOCUMENT_ROOT, SERVER_PROTOCOL,
 * REQUEST_SCHEME, HTTPS (only over TLS), GATEWAY_INTERFACE, SERVER_SOFTWARE, REMOTE_ADDR/PORT,
 * REMOTE_USER (the Basic credentials' user, unverified, else ""), SERVER_ADDR/PORT/NAME,
 * REDIRECT_STATUS, then every header as HTTP_* (repeated headers joined with ", ", cookies with
 * "; "; names with anything but letters, digits and "-" dropped, and Proxy: see headerParamName). Header bytes are kept as
 * received: Node reads them as latin1, so they are re-encoded (UTF-8 survives byte for byte).
 * Throws a 400 FcgiError (ERR_FCGI_BAD_TARGET) where nginx answers 400.
 */
export function paramsFromRequest(req: IncomingMessage, options: ParamsOptions = {}): [string, string][] {
  const target = splitTarget(req.url ?? '/');
  const path = normalizePath(target.rawPath);
  if (path === null)
    throw httpError(400, `bad request target ${JSON.stringify(target.uri.slice(0, 200))}`, {
      code: 'ERR_FCGI_BAD_TARGET',
    });
  const documentRoot = options.documentRoot ?? process.cwd();
  const socket = req.socket;
  const tls = (socket as { encrypted?: boolean }).encrypted === true;
  // An absolute-form target names the host; Host is then ignored (RFC 9112, 3.2.2), as nginx does.
  const host = target.authority ?? req.headers.host ?? '';
  const serverName = options.serverName ?? hostWithoutPort(host) ?? unmapV4(socket.localAddress ?? '');
  const params: [string, string][] = [
    ['QUERY_STRING', latin1ToUtf8(target.query)],
    ['REQUEST_METHOD', req.method ?? 'GET'],
    ['CONTENT_TYPE', latin1ToUtf8(req.headers['content-type'] ?? '')],
    ['CONTENT_LENGTH', req.headers['content-length'] ?? ''],
    ['SCRIPT_NAME', path],
    ['REQUEST_URI', latin1ToUtf8(target.uri)],
    ['DOCUMENT_URI', path],
    ['DOCUMENT_ROOT', documentRoot],
    ['SERVER_PROTOCOL', `HTTP/${req.httpVersion}`],
    ['REQUEST_SCHEME', tls ? 'https' : 'http'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', options.serverSoftware ?? 'fcgi-gateway'],
    ['REMOTE_ADDR', unmapV4(socket.remoteAddress ?? '')],
    ['REMOTE_PORT', String(socket.remotePort ?? '')],
    ['REMOTE_USER', basicUser(req.headers.authorization)],
    ['SERVER_ADDR', unmapV4(socket.localAddress ?? '')],
    ['SERVER_PORT', String(socket.localPort ?? '')],
    ['SERVER_NAME', serverName],
    ['REDIRECT_STATUS', '200'],
  ];
  if (tls) params.push(['HTTPS', 'on']);
  if (options.scriptFilename) params.push(['SCRIPT_FILENAME', documentRoot.replace(/\/+$/, '') + path]);
  // rawHeaders keeps repeats apart; join them the way nginx (1.23+) does.
  const merged = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerParamName(raw[i]!);
    if (name === null) continue;
    const value = name === 'HTTP_HOST' && target.authority !== undefined ? target.authority : latin1ToUtf8(raw[i + 1]!);
    const prev = merged.get(name);
    merged.set(name, prev === undefined ? value : prev + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value);
  }
  for (const entry of merged) params.push(entry);
  if (options.extra) for (const [k, v] of Object.entries(options.extra)) params.push([k, v]);
  return params;
}

/** nginx's $remote_user: the user name of `Authorization: Basic`, not checked against anything. */
function basicUser(auth: string | undefined): string {
  const m = auth === undefined ? null : /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(auth);
  if (!m) return '';
  const text = Buffer.from(m[1]!, 'base64').toString('latin1');
  const colon = text.indexOf(':');
  return colon < 0 ? '' : latin1ToUtf8(text.slice(0, colon));
}

function hostWithoutPort(host: string): string | undefined {
  if (!host) return undefined;
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const c = host.lastIndexOf(':');
  return (c < 0 ? host : host.slice(0, c)).toLowerCase();
}

function unmapV4(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

/** Node decodes header bytes as latin1; the params carry them as the original bytes (read as UTF-8 by the app). */
function latin1ToUtf8(s: string): string {
  // Pure ASCII needs no work.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'latin1').toString('utf8');
  }
  return s;
}
