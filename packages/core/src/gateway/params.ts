// An HTTP request as FastCGI params, the way nginx's stock fastcgi_params (Debian) builds them.
import type { IncomingMessage } from 'node:http';

export interface ParamsOptions {
  /** DOCUMENT_ROOT (nginx: $document_root). Default: the working directory. */
  documentRoot?: string;
  /** SERVER_SOFTWARE. */
  serverSoftware?: string;
  /** SERVER_NAME; default: the Host header without its port, as Debian's nginx sets it. */
  serverName?: string;
  /** Extra params, added last (they win). */
  extra?: Readonly<Record<string, string>>;
}

/**
 * Params for `req`: QUERY_STRING, REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH (empty strings when
 * absent, as nginx sends them), SCRIPT_NAME, REQUEST_URI, DOCUMENT_URI, DOCUMENT_ROOT,
 * SERVER_PROTOCOL, REQUEST_SCHEME, HTTPS (only over TLS), GATEWAY_INTERFACE, SERVER_SOFTWARE,
 * REMOTE_ADDR/PORT, SERVER_ADDR/PORT/NAME, REDIRECT_STATUS, then every header as HTTP_* (repeated
 * headers joined with ", ", cookies with "; "). Header bytes are kept as received: Node reads them
 * as latin1, so they are re-encoded as latin1 (UTF-8 in a header survives the trip byte for byte).
 */
export function paramsFromRequest(req: IncomingMessage, options: ParamsOptions = {}): [string, string][] {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  let path: string;
  try {
    path = decodeURIComponent(rawPath); // nginx's $document_uri and $fastcgi_script_name are decoded
  } catch {
    path = rawPath;
  }
  const socket = req.socket;
  const tls = (socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host ?? '';
  const serverName = options.serverName ?? hostWithoutPort(host) ?? socket.localAddress ?? '';
  const params: [string, string][] = [
    ['QUERY_STRING', query],
    ['REQUEST_METHOD', req.method ?? 'GET'],
    ['CONTENT_TYPE', latin1ToUtf8(req.headers['content-type'] ?? '')],
    ['CONTENT_LENGTH', req.headers['content-length'] ?? ''],
    ['SCRIPT_NAME', path],
    ['REQUEST_URI', latin1ToUtf8(url)],
    ['DOCUMENT_URI', path],
    ['DOCUMENT_ROOT', options.documentRoot ?? process.cwd()],
    ['SERVER_PROTOCOL', `HTTP/${req.httpVersion}`],
    ['REQUEST_SCHEME', tls ? 'https' : 'http'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', options.serverSoftware ?? 'fcgi-gateway'],
    ['REMOTE_ADDR', unmapV4(socket.remoteAddress ?? '')],
    ['REMOTE_PORT', String(socket.remotePort ?? '')],
    ['SERVER_ADDR', unmapV4(socket.localAddress ?? '')],
    ['SERVER_PORT', String(socket.localPort ?? '')],
    ['SERVER_NAME', serverName],
    ['REDIRECT_STATUS', '200'],
  ];
  if (tls) params.push(['HTTPS', 'on']);
  // rawHeaders keeps repeats apart; join them the way nginx does.
  const merged = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = 'HTTP_' + raw[i]!.toUpperCase().replaceAll('-', '_');
    const value = latin1ToUtf8(raw[i + 1]!);
    const prev = merged.get(name);
    merged.set(name, prev === undefined ? value : prev + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value);
  }
  for (const entry of merged) params.push(entry);
  if (options.extra) for (const [k, v] of Object.entries(options.extra)) params.push([k, v]);
  return params;
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
