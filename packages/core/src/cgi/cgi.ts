// CGI: the same handler serves one request from the environment and stdin to stdout, then the
// process exits. Shared hosts without FastCGI run apps this way (Apache mod_cgi).
import type { Readable, Writable } from 'node:stream';
import { Dictionary } from '../protocol/index.js';
import { handlerRunner, type Handler, type NodeHandler, type ResponderOptions } from '../http/responder.js';
import { CgiTransport } from './cgi-transport.js';

/** True when this process was started as a CGI script (and no FastCGI socket is on fd 0). */
export function isCgiEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.GATEWAY_INTERFACE?.startsWith('CGI/') && !!env.REQUEST_METHOD;
}

export interface CgiOptions extends ResponderOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

/**
 * Serves the one request described by the environment: the body from stdin (CONTENT_LENGTH
 * bytes), the response (its CGI header block, then the body) to stdout, `res.err()` and handler
 * errors to stderr. Resolves when the response ended and stdout took it.
 */
export function serveCgi(handler: Handler, options?: CgiOptions): Promise<void>;
export function serveCgi(handler: NodeHandler, options?: CgiOptions): Promise<void>;
export function serveCgi(handler: Handler | NodeHandler, options: CgiOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const environ: Record<string, string> = new Dictionary();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) environ[k] = v;
  const transport = new CgiTransport(
    environ,
    options.stdin ?? process.stdin,
    options.stdout ?? process.stdout,
    options.stderr ?? process.stderr,
  );
  handlerRunner(handler, options)(transport);
  transport.readBody();
  return transport.done;
}
