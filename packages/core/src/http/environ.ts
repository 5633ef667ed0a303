// What a request's params mean in HTTP terms: headers, URL, protocol version.

// nginx and Apache send header names as HTTP_ACCEPT_LANGUAGE; converting them allocates, and the
// same few dozen names come on every request, so the conversions are kept (bounded).
const headerNames = new Map<string, string>();
const MAX_CACHED_NAMES = 512;

function headerName(param: string): string {
  let name = headerNames.get(param);
  if (name === undefined) {
    name = param.slice(5).toLowerCase().replaceAll('_', '-');
    if (headerNames.size < MAX_CACHED_NAMES) headerNames.set(param, name);
  }
  return name;
}

/**
 * An empty req.headers. A plain object, as node:http's: Next.js calls `headers.hasOwnProperty()`.
 * A name made from a param can never be `__proto__` (every `_` becomes `-`), so nothing a client
 * sends reaches the prototype.
 */
export function newHeaders(): Record<string, string> {
  return {};
}

/**
 * Adds one param to `headers` if it is an HTTP_* header (lower case, `_` as `-`), and its name and
 * `rawValue` to `raw` (req.rawHeaders, Node's flat list); empty means absent. `value` differs from
 * `rawValue` for a repeated param: `headers` holds them joined, `raw` each apart, as Node keeps them.
 */
export function addHeaderParam(
  headers: Record<string, string>,
  raw: string[],
  param: string,
  value: string,
  rawValue = value,
): void {
  if (value !== '' && param.charCodeAt(0) === 72 /* H */ && param.startsWith('HTTP_')) {
    const name = headerName(param);
    headers[name] = value;
    if (rawValue !== '') raw.push(name, rawValue);
  }
}

/**
 * After the HTTP_* params: content-type and content-length come from CONTENT_TYPE and
 * CONTENT_LENGTH, which take precedence over their HTTP_ copies (nginx sends both; Apache only
 * the former). Empty values mean absent, as nginx sends them.
 */
export function finishHeaders(
  headers: Record<string, string>,
  raw: string[],
  environ: Record<string, string>,
): Record<string, string> {
  const type = environ.CONTENT_TYPE;
  if (type !== undefined) {
    if (type) headers['content-type'] = type;
    else delete headers['content-type'];
    replaceRaw(raw, 'content-type', type);
  }
  const length = environ.CONTENT_LENGTH;
  if (length !== undefined) {
    if (length) headers['content-length'] = length;
    else delete headers['content-length'];
    replaceRaw(raw, 'content-length', length);
  }
  return headers;
}

/** In the flat list, `name`'s entries replaced by one with `value` ('' removes them). */
function replaceRaw(raw: string[], name: string, value: string): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i] === name) raw.splice(i, 2);
  if (value) raw.push(name, value);
}

/** Request headers from the params: every HTTP_* param, then finishHeaders(); `raw` gets the flat list. */
export function headersFromEnviron(environ: Record<string, string>, raw: string[] = []): Record<string, string> {
  const headers = newHeaders();
  for (const param in environ) addHeaderParam(headers, raw, param, environ[param]!);
  return finishHeaders(headers, raw, environ);
}

/** The request target: REQUEST_URI, else SCRIPT_NAME + PATH_INFO + ?QUERY_STRING. */
export function urlFromEnviron(environ: Record<string, string>): string {
  const uri = environ.REQUEST_URI;
  if (uri) return uri;
  const path = (environ.SCRIPT_NAME ?? '') + (environ.PATH_INFO ?? '');
  const qs = environ.QUERY_STRING;
  return (path || '/') + (qs ? '?' + qs : '');
}

/** [major, minor] from SERVER_PROTOCOL such as HTTP/1.1; 1.0 when absent or unreadable. */
export function httpVersion(protocol: string | undefined): [number, number] {
  if (protocol === 'HTTP/1.1') return [1, 1];
  const m = protocol ? /^HTTP\/(\d+)(?:\.(\d+))?$/.exec(protocol) : null;
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : [1, 0];
}
