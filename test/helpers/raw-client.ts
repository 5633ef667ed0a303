// A raw FastCGI peer for tests: sends any bytes, parses what comes back into records.
// Built on the protocol layer only, so tests can send malformed input too.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  RecordType,
  RecordParser,
  encodeBeginRequest,
  encodeNameValues,
  encodeStream,
  decodeEndRequest,
  type RecordSink,
} from '@fcgi/core/protocol';

export interface ReceivedRecord {
  type: number;
  requestId: number;
  content: Buffer;
}

/** What one request id got back. */
export interface Reply {
  stdout: Buffer;
  stderr: Buffer;
  appStatus: number;
  protocolStatus: number;
}

export class RawClient implements RecordSink {
  readonly socket: Socket;
  /** Every record received, stream fragments merged back per record boundary are not kept. */
  readonly records: ReceivedRecord[] = [];
  readonly #parser = new RecordParser(this);
  readonly #waiters: (() => void)[] = [];
  closed = false;
  /** Set when the socket closed with an error (e.g. ECONNRESET). */
  error: Error | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#parser.push(chunk);
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  /**
   * Connects to a unix socket path, or to { host, port }. With `allowHalfOpen`, the client keeps
   * sending after the server ended its side (call socket.end() when done).
   */
  static connect(
    target: string | { host: string; port: number },
    options: { allowHalfOpen?: boolean } = {},
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const allowHalfOpen = options.allowHalfOpen ?? false;
      const socket =
        typeof target === 'string'
          ? connect({ path: target, allowHalfOpen })
          : connect({ port: target.port, host: target.host, allowHalfOpen });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  record(type: number, requestId: number, content: Buffer): void {
    this.records.push({ type, requestId, content: Buffer.from(content) });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** BEGIN_REQUEST, PARAMS (one stream), STDIN (one stream, may be empty). */
  sendRequest(id: number, params: Record<string, string>, body: Uint8Array = Buffer.alloc(0), keepConn = false): void {
    this.write(encodeBeginRequest(id, 1, keepConn));
    this.write(encodeStream(RecordType.PARAMS, id, encodeNameValues(params)));
    this.write(encodeStream(RecordType.STDIN, id, body));
  }

  /** Resolves once `predicate` holds (checked after every chunk received), or rejects after `ms`. */
  async until(predicate: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.closed && !predicate()) throw new Error('connection closed before the condition held');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for END_REQUEST of `id` and returns what the request got. */
  async reply(id: number, ms = 5000): Promise<Reply> {
    await this.until(() => this.records.some((r) => r.type === RecordType.END_REQUEST && r.requestId === id), ms);
    return this.replyOf(id);
  }

  replyOf(id: number): Reply {
    const mine = this.records.filter((r) => r.requestId === id);
    const end = mine.find((r) => r.type === RecordType.END_REQUEST);
    const { appStatus, protocolStatus } = end ? decodeEndRequest(end.content) : { appStatus: -1, protocolStatus: -1 };
    return {
      stdout: Buffer.concat(mine.filter((r) => r.type === RecordType.STDOUT).map((r) => r.content)),
      stderr: Buffer.concat(mine.filter((r) => r.type === RecordType.STDERR).map((r) => r.content)),
      appStatus,
      protocolStatus,
    };
  }

  /** Waits until the server closes the connection. */
  async closedByPeer(ms = 5000): Promise<void> {
    await this.until(() => this.closed, ms);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Forgets the records received so far (to reuse a request id on a kept connection). */
  clear(): void {
    this.records.length = 0;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Splits a CGI response into status, headers (lower-case names, repeated ones as arrays) and body. */
export function parseCgi(stdout: Buffer): { status: number; headers: Record<string, string | string[]>; body: Buffer } {
  const end = stdout.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no header block in ${JSON.stringify(stdout.subarray(0, 200).toString('latin1'))}`);
  const headers: Record<string, string | string[]> = {};
  let status = 200;
  for (const line of stdout.subarray(0, end).toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === 'status') status = parseInt(value, 10);
    const prev = headers[name];
    headers[name] = prev === undefined ? value : ([] as string[]).concat(prev, value);
  }
  return { status, headers, body: stdout.subarray(end + 4) };
}

// ---- Additions for the connection-layer tests (test/connection*.test.ts). ----

/** One record as framed on the wire: its header fields and whether its padding bytes were all zero. */
export interface Frame {
  type: number;
  requestId: number;
  contentLength: number;
  paddingLength: number;
  paddingZero: boolean;
}

/**
 * Watches a socket's incoming bytes and keeps the record framing (headers only, no content), which
 * RawClient's records do not show: its parser hands stream content on in fragments.
 */
export class FrameLog {
  readonly frames: Frame[] = [];
  #header = Buffer.alloc(0);
  #skip = 0;
  #pad = 0;
  #padZero = true;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#push(chunk));
  }

  #push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - at);
        this.#skip -= n;
        at += n;
        continue;
      }
      if (this.#pad > 0) {
        const n = Math.min(this.#pad, chunk.length - at);
        for (let i = at; i < at + n; i++) if (chunk[i] !== 0) this.#padZero = false;
        this.#pad -= n;
        at += n;
        if (this.#pad === 0) this.frames[this.frames.length - 1]!.paddingZero = this.#padZero;
        continue;
      }
      const n = Math.min(8 - this.#header.length, chunk.length - at);
      this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + n)]);
      at += n;
      if (this.#header.length < 8) continue;
      const h = this.#header;
      this.#header = Buffer.alloc(0);
      const frame: Frame = {
        type: h[1]!,
        requestId: h.readUInt16BE(2),
        contentLength: h.readUInt16BE(4),
        paddingLength: h[6]!,
        paddingZero: true,
      };
      this.frames.push(frame);
      this.#skip = frame.contentLength;
      this.#pad = frame.paddingLength;
      this.#padZero = true;
    }
  }
}

/** A record with any padding length and padding bytes (the spec says receivers ignore them). */
export function encodeRecordPadded(
  type: number,
  requestId: number,
  content: Uint8Array,
  padding: number,
  padByte = 0xa5,
): Buffer {
  const out = Buffer.alloc(8 + content.length + padding, padByte);
  out[0] = 1;
  out[1] = type;
  out.writeUInt16BE(requestId, 2);
  out.writeUInt16BE(content.length, 4);
  out[6] = padding;
  out[7] = 0;
  out.set(content, 8);
  return out;
}

/** What listenForTest needs of a server (FcgiServer has it); kept structural so this file needs only the protocol layer. */
export interface ListeningServer {
  listenOn(target: { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number }): Promise<unknown>;
  close(): Promise<void>;
}

/** Where a RawClient connects; connect() tracks clients so stop() can destroy them before closing the server. */
export interface TestListen {
  target: string | { host: string; port: number };
  connect(options?: { allowHalfOpen?: boolean }): Promise<RawClient>;
  /** Destroys every client from connect(), closes the server, removes the temp dir. */
  stop(): Promise<void>;
}

/** Listens on a unix socket in a fresh temp dir, or on 127.0.0.1 with a free port. */
export async function listenForTest(server: ListeningServer, kind: 'unix' | 'tcp'): Promise<TestListen> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const clients: RawClient[] = [];
  let target: TestListen['target'];
  let dir: string | null = null;
  if (kind === 'tcp') {
    const a = (await server.listenOn({ kind: 'tcp', host: '127.0.0.1', port: 0 })) as { host: string; port: number };
    target = { host: a.host, port: a.port };
  } else {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-conn-'));
    target = join(dir, 's.sock');
    await server.listenOn({ kind: 'unix', path: target });
  }
  return {
    target,
    async connect(options) {
      const c = await RawClient.connect(target, options);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

// -- Helpers for the listen and server lifecycle tests --

/** The repository root: where child processes run, so `--import tsx` and '@fcgi/core' resolve. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Params of a plain GET, as a web server sends them. */
export function getParams(uri = '/'): Record<string, string> {
  return {
    REQUEST_METHOD: 'GET',
    REQUEST_URI: uri,
    SCRIPT_NAME: uri,
    QUERY_STRING: '',
    SERVER_PROTOCOL: 'HTTP/1.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    CONTENT_LENGTH: '',
    HTTP_HOST: 'localhost',
  };
}

/** One GET on a fresh connection without keep-conn; the parsed reply, and the raw one. */
export async function fcgiGet(target: string | { host: string; port: number }, uri = '/', ms = 5000) {
  const client = await RawClient.connect(target);
  try {
    client.sendRequest(1, getParams(uri));
    const reply = await client.reply(1, ms);
    return { ...parseCgi(reply.stdout), reply };
  } finally {
    client.close();
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept, so a test can wait for a line, then stop it by its pid. */
export class Child {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  constructor(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}) {
    this.proc = spawn(cmd, args, {
      cwd: repoRoot,
      env: options.env ?? process.env,
      stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout?.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.proc.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code) => resolve((this.#exitCode = code)));
      this.proc.once('error', () => resolve((this.#exitCode = null)));
    });
  }

  /** Resolves with the first match of `re` in stdout + stderr; rejects if the child exits first or after `ms`. */
  async waitFor(re: RegExp, ms = 15000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.stdout) ?? re.exec(this.stderr);
      if (m) return m;
      if (this.#exitCode !== undefined)
        throw new Error(`child exited (${this.#exitCode}) before ${re}: ${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${re}; stdout: ${this.stdout} stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kills the child by its pid (SIGKILL unless told otherwise) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.#exitCode === undefined && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, signal);
      } catch {
        // Already gone.
      }
    }
    await this.exited;
  }
}
