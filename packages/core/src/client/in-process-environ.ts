// The params of an in-process request: a Web Request as nginx with Debian's fastcgi_params would
// pass it to the application.
import { Dictionary } from '../protocol/index.js';
import { headerParamName } from './header-param.js';

export interface EnvironOptions {
  /** CONTENT_LENGTH: the body's length, or '' when the request has none. */
  contentLength: string;
  /** REMOTE_ADDR; default 127.0.0.1. */
  remoteAddress?: string | undefined;
  /** REMOTE_PORT; default none (''). */
  remotePort?: number | undefined;
  /** Params added last: they win. */
  extra?: Readonly<Record<string, string>> | undefined;
}

/**
 * QUERY_STRING, REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH (empty strings when absent),
 * SCRIPT_NAME and DOCUMENT_URI (the path percent-decoded, as nginx's $uri), REQUEST_URI,
 * DOCUMENT_ROOT (the working directory), SERVER_PROTOCOL, REQUEST_SCHEME, HTTPS (https only),
 * GATEWAY_INTERFACE, SERVER_SOFTWARE, REMOTE_ADDR/PORT, SERVER_ADDR/PORT/NAME, REDIRECT_STATUS,
 * then every header as HTTP_* (Host from the URL when not given; not Proxy: headerParamName), then `extra`.
 */
export function environFromRequest(request: Request, url: URL, options: EnvironOptions): Record<string, string> {
  const https = url.protocol === 'https:';
  const path = decodePath(url.pathname);
  const env: Record<string, string> = new Dictionary();
  env.QUERY_STRING = url.search.slice(1);
  env.REQUEST_METHOD = request.method;
  env.CONTENT_TYPE = request.headers.get('content-type') ?? '';
  env.CONTENT_LENGTH = options.contentLength;
  env.SCRIPT_NAME = path;
  env.REQUEST_URI = url.pathname + url.search;
  env.DOCUMENT_URI = path;
  env.DOCUMENT_ROOT = process.cwd();
  env.SERVER_PROTOCOL = 'HTTP/1.1';
  env.REQUEST_SCHEME = https ? 'https' : 'http';
  if (https) env.HTTPS = 'on';
  env.GATEWAY_INTERFACE = 'CGI/1.1';
  env.SERVER_SOFTWARE = 'fcgi-inject';
  env.REMOTE_ADDR = options.remoteAddress ?? '127.0.0.1';
  env.REMOTE_PORT = options.remotePort === undefined ? '' : String(options.remotePort);
  env.SERVER_ADDR = '127.0.0.1';
  env.SERVER_PORT = url.port || (https ? '443' : '80');
  env.SERVER_NAME = url.hostname;
  env.REDIRECT_STATUS = '200';
  env.HTTP_HOST = url.host;
  // Headers joins repeated values with ", " (cookies with "; "), as nginx does.
  for (const [name, value] of request.headers) {
    const param = headerParamName(name);
    if (param !== null) env[param] = value;
  }
  if (env.CONTENT_LENGTH !== '') env.HTTP_CONTENT_LENGTH ??= env.CONTENT_LENGTH;
  if (options.extra) for (const name of Object.keys(options.extra)) env[name] = options.extra[name]!;
  return env;
}

/** The path percent-decoded as UTF-8; kept as it is when that fails (a bad escape, not UTF-8). */
function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
