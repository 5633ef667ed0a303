// CGI: the same handler serves one request from the environment and stdin to stdout, then the
// process exits. Shared hosts without FastCGI run apps this way (Apache mod_cgi).
import type { Readable, Writable } from 'node:stream';
import { RecordType, RecordParser, Role, type RecordSink } from '../protocol/index.js';
import type { ExchangeHost, Exchange } from '../connection/index.js';
import { responder, type Handler, type NodeHandler, type ResponderOptions } from '../http/index.js';

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
 * Serves the one request described by the environment. The response's FastCGI records are
 * unwrapped on the way out: STDOUT to stdout, STDERR to stderr. Resolves when the response ended.
 */
export function serveCgi(handler: Handler, options?: CgiOptions): Promise<void>;
export function serveCgi(handler: NodeHandler, options?: CgiOptions): Promise<void>;
export function serveCgi(handler: Handler | NodeHandler, options: CgiOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const { createExchange, dispatch } = responder(handler, options);
  const environ: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(env)) if (v !== undefined) environ[k] = v;

  return new Promise<void>((resolve) => {
    let exchange: Exchange;
    const unwrap: RecordSink = {
      record(type, _id, content) {
        if (type === RecordType.STDOUT && content.length) {
          if (!stdout.write(content)) stdout.once('drain', () => exchange.drained());
        } else if (type === RecordType.STDERR && content.length) stderr.write(content);
        else if (type === RecordType.END_REQUEST) {
          stdin.pause();
          stdout.write('', () => resolve());
        }
      },
    };
    const parser = new RecordParser(unwrap);
    const host: ExchangeHost = {
      write(buf) {
        parser.push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length));
        return !stdout.writableNeedDrain;
      },
      release() {},
      pauseBody: () => stdin.pause(),
      resumeBody: () => stdin.resume(),
    };
    exchange = createExchange!(host, 1, Role.RESPONDER, false);
    exchange.environ = environ;
    exchange.dispatched = true;
    dispatch(exchange);

    // CGI gives CONTENT_LENGTH bytes on stdin; the server need not close it after them.
    let left = Number(environ.CONTENT_LENGTH) || 0;
    const endBody = () => {
      if (exchange.stdinEnded) return;
      exchange.stdinEnded = true;
      stdin.off('data', onData);
      if (!exchange.ended) exchange.onBodyEnd();
    };
    const onData = (chunk: Buffer) => {
      if (exchange.ended) return;
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      if (part.length) exchange.deliverBody(part);
      if (left === 0) endBody();
    };
    if (left === 0) endBody();
    else {
      stdin.on('data', onData);
      stdin.once('end', endBody);
      stdin.once('error', endBody);
    }
  });
}
