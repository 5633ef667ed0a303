// The one shape of a line this process writes to the web server's error log: an ISO time, who wrote
// it (a request: its id, method and URL; or the process: its pid), then the text. Nothing here runs
// for a request that writes no line: the id and the time are made when the first line is written.

/** What a line needs of a request (ours, an AppRequest, Express's, a test double). */
export interface LoggedRequest {
  method?: string | undefined;
  url?: string | undefined;
  originalUrl?: string | undefined;
  /** The FastCGI params: UNIQUE_ID comes from Apache's mod_unique_id. */
  environ?: Record<string, string> | undefined;
  headers?: Record<string, string | string[] | undefined> | undefined;
}

const ids = new WeakMap<object, string>();
let counter = 0;

/** An X-Request-Id worth repeating: visible ASCII, no spaces, short (a client could send anything). */
const SAFE_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The request's id in log lines: mod_unique_id's UNIQUE_ID param, else a sane X-Request-Id
 * header, else `<pid>-<n>` counted in this process. The same request keeps the same id.
 */
export function requestId(req: LoggedRequest): string {
  let id = ids.get(req);
  if (id !== undefined) return id;
  const unique = req.environ?.UNIQUE_ID;
  const header = req.headers?.['x-request-id'];
  if (unique && SAFE_ID.test(unique)) id = unique;
  else if (typeof header === 'string' && SAFE_ID.test(header)) id = header;
  else id = `${process.pid}-${++counter}`;
  ids.set(req, id);
  return id;
}

/** `2026-12-06T22:31:05.123Z [req 4711-17] GET /sub/x: text` (no newline). */
export function requestLine(req: LoggedRequest, text: string): string {
  return `${new Date().toISOString()} [req ${requestId(req)}] ${req.method} ${req.originalUrl ?? req.url}: ${text}`;
}

/** `2026-12-06T22:31:05.123Z [pid 4711] text` (no newline): a line outside any request. */
export function processLine(text: string): string {
  return `${new Date().toISOString()} [pid ${process.pid}] ${text}`;
}

/** Writes processLine(text) and a newline to the process's stderr (the web server's error log). */
export function logProcessLine(text: string): void {
  process.stderr.write(`${processLine(text)}\n`);
}
