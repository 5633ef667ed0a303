// A hostile FastCGI app for gateway tests: a real responder on a unix socket that answers each
// request with the raw bytes a test scripted for its path (any framing, any header, any end), and
// `fcgi gateway` (the built CLI, its own process) in front, and a raw HTTP/1.1 reader that tells a
// well-formed answer from a broken one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordParser, RecordType, decodeNameValues, encodeEndRequest, encodeRecord } from '@fcgi/core/protocol';
import { ROOT, stopChild } from './app-process.js';
import { freePort } from './nginx.js';

/** What the app does once a request's STDIN ended: write `bytes`, then close the connection or not. */
export interface Script {
  bytes: Buffer;
  close: boolean;
}

/** STDOUT records carrying `data`, cut at `cuts` (offsets), then the empty STDOUT record. */
export function stdout(data: Buffer | string, cuts: readonly number[] = []): Buffer {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, buf.length].sort((a, b) => a - b)) {
    const end = Math.min(Math.max(cut, at), buf.length);
    for (let i = at; i < end; i += 65535)
      out.push(encodeRecord(RecordType.STDOUT, 1, buf.subarray(i, Math.min(end, i + 65535))));
    at = end;
  }
  out.push(encodeRecord(RecordType.STDOUT, 1));
  return Buffer.concat(out);
}

/** STDOUT then END_REQUEST: a complete answer, as a well-behaved app frames it. */
export function answer(cgi: Buffer | string, appStatus = 0, protocolStatus = 0): Buffer {
  return Buffer.concat([stdout(cgi), encodeEndRequest(1, appStatus, protocolStatus)]);
}

/** The app: scripts by path (`/s/<key>`), the params each path arrived with. */
export class HostileApp {
  readonly socket: string;
  readonly #server: Server;
  readonly #scripts = new Map<string, Script>();
  readonly #params = new Map<string, Record<string, string>>();
  readonly #conns = new Set<Socket>();

  private constructor(socket: string, server: Server) {
    this.socket = socket;
    this.#server = server;
  }

  static async start(dir: string): Promise<HostileApp> {
    const path = join(dir, 'hostile.sock');
    const server = createServer();
    const app = new HostileApp(path, server);
    server.on('connection', (s) => app.#serve(s));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
    return app;
  }

  /** Scripts the answer to `/s/<key>`; forgets the params that path came with before. */
  set(key: string, script: Script): void {
    this.#scripts.set(`/s/${key}`, script);
    this.#params.delete(`/s/${key}`);
  }

  /** Drops a script (and its params) once the test is done with it: memory stays flat in long runs. */
  forget(key: string): void {
    this.#scripts.delete(`/s/${key}`);
    this.#params.delete(`/s/${key}`);
  }

  /** The params of the last request for `/s/<key>`. */
  params(key: string): Record<string, string> | undefined {
    return this.#params.get(`/s/${key}`);
  }

  async close(): Promise<void> {
    for (const s of this.#conns) s.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #serve(socket: Socket): void {
    this.#conns.add(socket);
    socket.on('close', () => this.#conns.delete(socket));
    socket.on('error', () => {});
    let params: Buffer[] = [];
    const parser = new RecordParser({
      record: (type, _id, content) => {
        if (type === RecordType.BEGIN_REQUEST) params = [];
        else if (type === RecordType.PARAMS && content.length > 0) params.push(Buffer.from(content));
        else if (type === RecordType.STDIN && content.length === 0) {
          const env = decodeNameValues(Buffer.concat(params));
          const path = (env.REQUEST_URI ?? '').split('?')[0]!;
          this.#params.set(path, { ...env });
          const script = this.#scripts.get(path) ?? {
            bytes: answer('Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno script\n'),
            close: false,
          };
          socket.write(script.bytes);
          if (script.close) socket.end();
        }
      },
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch {
        socket.destroy();
      }
    });
  }
}

export interface CliGateway {
  child: ChildProcess;
  port: number;
  /** The gateway's stderr so far (the last 1 MB). */
  stderr(): string;
  /** VmRSS of the gateway process, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

/** `fcgi gateway --to <socket> --port <free>` from packages/core/dist; resolves once it listens. */
export async function startCliGateway(to: string): Promise<CliGateway> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'packages/core/dist/cli.js'), 'gateway', '--to', to, '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-1_000_000)));
  const deadline = Date.now() + 10_000;
  while (!out.includes(`http://127.0.0.1:${port} `)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`the gateway did not start: ${out}${err}`);
    }
    await sleep(20);
  }
  return {
    child,
    port,
    stderr: () => err,
    rss: () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    stop: () => stopChild(child),
  };
}

/** What came back on one HTTP connection. */
export interface Exchange {
  /** Every byte received, latin1. */
  raw: string;
  /** The gateway closed the connection (FIN or reset) within the wait. */
  closed: boolean;
  /** Milliseconds from sending to the close (or to the end of the wait). */
  ms: number;
}

/**
 * Sends `request` (raw bytes) on a new connection and reads until the server closes it, or until
 * `stopWhen(raw)` says enough, or `waitMs` passed (then `closed` is false).
 */
export function exchange(
  port: number,
  request: string,
  waitMs: number,
  stopWhen: (raw: string) => boolean = () => false,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = connect(port, '127.0.0.1');
    let raw = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ raw, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (c: Buffer) => {
      raw += c.toString('latin1');
      if (stopWhen(raw)) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.write(Buffer.from(request, 'latin1'));
  });
}

export interface HttpAnswer {
  status: number;
  /** Lower-case names, in order. */
  headers: [string, string][];
  body: string;
  /** The bytes after this answer. */
  rest: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Reads one HTTP/1.1 answer strictly: status line, header lines of a token name and a field value
 * without control characters, at most one Content-Length, and the body framed by Content-Length or
 * chunked encoding (none for HEAD, 1xx, 204, 304). Returns 'incomplete' when the bytes stop
 * inside it, or a string saying what is malformed (prefixed 'malformed: ').
 */
export function readAnswer(raw: string, head = false): HttpAnswer | 'incomplete' | `malformed: ${string}` {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return raw.length > 100_000 ? 'malformed: endless head' : 'incomplete';
  const lines = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*$/.exec(lines[0]!);
  if (!m) return `malformed: status line ${JSON.stringify(lines[0]!.slice(0, 80))}`;
  const status = Number(m[1]);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    const name = line.slice(0, c);
    const value = line.slice(c + 1).trim();
    if (c <= 0 || !TOKEN.test(name)) return `malformed: header line ${JSON.stringify(line.slice(0, 80))}`;
    if (!FIELD_VALUE.test(value)) return `malformed: control character in ${name}`;
    headers.push([name.toLowerCase(), value]);
  }
  const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
  const chunked = headers.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v));
  if (lengths.length > 1) return `malformed: ${lengths.length} Content-Length headers`;
  if (lengths.length === 1 && (chunked || !/^\d+$/.test(lengths[0]!))) return 'malformed: Content-Length';
  let at = end + 4;
  let body = '';
  if (head || status < 200 || status === 204 || status === 304) {
    // no body
  } else if (chunked) {
    for (;;) {
      const nl = raw.indexOf('\r\n', at);
      if (nl < 0) return 'incomplete';
      if (!/^[0-9a-fA-F]+$/.test(raw.slice(at, nl))) return 'malformed: chunk size';
      const size = parseInt(raw.slice(at, nl), 16);
      if (raw.length < nl + 2 + size + 2) return 'incomplete';
      if (raw.slice(nl + 2 + size, nl + 4 + size) !== '\r\n') return 'malformed: chunk end';
      body += raw.slice(nl + 2, nl + 2 + size);
      at = nl + 4 + size;
      if (size === 0) break;
    }
  } else if (lengths.length === 1) {
    const n = Number(lengths[0]);
    if (raw.length < at + n) return 'incomplete';
    body = raw.slice(at, at + n);
    at += n;
  } else {
    return 'malformed: a body framed by neither Content-Length nor chunked';
  }
  return { status, headers, body, rest: raw.slice(at) };
}
