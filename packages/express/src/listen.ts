// Express's app.listen(port, host, backlog, callback) read as serve() options: the port and host are
// the development gateway's; fd 0, FCGI_LISTEN and CGI, when the host offers them, still come first.
import type { ServeOptions } from '@fcgi/core';

/** Express's listen callback: called once listening, or with the error when listening failed. */
export type ListenCallback = (err?: Error) => void;

/** Node's `server.listen(options)` object, the part that means something here. */
export interface ListenOptions {
  port?: number | string;
  host?: string;
  path?: string;
}

export interface ListenPlan {
  options: ServeOptions;
  callback: ListenCallback | undefined;
}

/** A port as Express takes it: a number or a numeric string (`process.env.PORT`). */
function portOf(value: number | string): number | undefined {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  return undefined;
}

/**
 * The serve() options for Express's listen arguments. A port (or numeric string) and a host go to
 * the gateway; a socket path is a FastCGI target (Express would serve HTTP on it); the backlog is
 * the web server's business and ignored. A value that is neither throws a TypeError at once.
 */
export function planListen(args: readonly unknown[]): ListenPlan {
  const rest = [...args];
  const callback = typeof rest.at(-1) === 'function' ? (rest.pop() as ListenCallback) : undefined;
  const [where, host] = rest;
  const options: ServeOptions = {};
  if (typeof host === 'string') options.host = host;
  if (where === undefined || where === null) return { options, callback };
  if (typeof where === 'object') {
    const given = where as ListenOptions;
    if (given.host !== undefined) options.host = given.host;
    if (given.path !== undefined) options.target = { path: given.path };
    else if (given.port !== undefined) options.port = checkedPort(given.port);
    return { options, callback };
  }
  if (typeof where === 'number' || (typeof where === 'string' && /^\d+$/.test(where))) {
    options.port = checkedPort(where);
    return { options, callback };
  }
  if (typeof where === 'string' && where !== '') {
    options.target = { path: where };
    return { options, callback };
  }
  throw new TypeError(`app.listen(): ${JSON.stringify(where)} is neither a port nor a socket path`);
}

function checkedPort(value: number | string): number {
  const port = portOf(value);
  if (port === undefined) throw new TypeError(`app.listen(): port ${JSON.stringify(value)} is not 0-65535`);
  return port;
}
