// One fuzz input over one fresh connection: write the bytes in the planned chunks, read and parse
// everything the server sends, and check the end: answered right (valid inputs), and closed within
// a bound once we half-close (every input).
import { connect } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { RecordType as Rec, RecordParser, decodeEndRequest } from '@fcgi/core/protocol';
import { FUZZ_LIMITS, expectedBody, type PlannedRequest, type ValidStream } from './inputs.js';

export interface FuzzCase {
  index: number;
  kind: 'valid' | 'mutated' | 'garbage';
  /** The valid stream (its requests are checked only when kind is 'valid'). */
  valid: ValidStream | null;
  bytes: Buffer;
  applied: string[];
  chunks: number[];
  /** Mutated input: half-close at once, or only once the server has been quiet for a moment. */
  fin: 'now' | 'quiet';
}

export interface CaseResult {
  error: string | null;
  /** END_REQUEST records received. */
  answered: number;
}

interface Got {
  stdout: Buffer[];
  end: { appStatus: number; protocolStatus: number } | null;
  afterEnd: boolean;
}

/** Bound on the server closing once we half-closed: it must not hang on any input. */
export const CLOSE_BOUND_MS = 5000;

export async function runCase(path: string, c: FuzzCase): Promise<CaseResult> {
  const socket = connect({ path, allowHalfOpen: true });
  const got = new Map<number, Got>();
  let management = 0;
  let malformed: string | null = null;
  let ended = false;
  let closed = false;
  let lastData = Date.now();
  let wake: (() => void) | null = null;
  const poke = () => wake?.();
  const parser = new RecordParser({
    record(type, id, content) {
      if (id === 0) {
        if (type === Rec.GET_VALUES_RESULT || type === Rec.UNKNOWN_TYPE) management++;
        else malformed ??= `server sent type ${type} on request id 0`;
        return;
      }
      let g = got.get(id);
      if (!g) got.set(id, (g = { stdout: [], end: null, afterEnd: false }));
      if (g.end) g.afterEnd = true;
      if (type === Rec.STDOUT) g.stdout.push(Buffer.from(content));
      else if (type === Rec.END_REQUEST) g.end = decodeEndRequest(content);
      else if (type !== Rec.STDERR) malformed ??= `server sent record type ${type} for request ${id}`;
    },
  });
  socket.on('data', (chunk: Buffer) => {
    lastData = Date.now();
    try {
      parser.push(chunk);
    } catch (err) {
      malformed ??= `server output does not parse: ${(err as Error).message}`;
    }
    poke();
  });
  socket.on('end', () => {
    ended = true;
    poke();
  });
  socket.on('error', () => {}); // resets and EPIPE: the server may close on bad input
  socket.on('close', () => {
    closed = true;
    poke();
  });
  const until = async (pred: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 25));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = null;
    }
    return true;
  };
  const answered = () => [...got.values()].filter((g) => g.end).length;
  const started = Date.now();
  try {
    if (!(await until(() => socket.readyState === 'open' || closed, 5000)) || closed) {
      return { error: 'could not connect', answered: 0 };
    }
    let at = 0;
    for (let i = 0; i < c.chunks.length && !closed && !socket.destroyed; i++) {
      socket.write(c.bytes.subarray(at, (at += c.chunks[i]!)));
      if (i % 8 === 7) await tick();
    }
    if (c.kind === 'valid') {
      const v = c.valid!;
      const done = () => v.requests.every((r) => got.get(r.id)?.end) && management >= v.management;
      if (!(await until(() => done() || closed, 15_000)))
        return { error: `valid input not answered in 15 s (${describe(got, v)})`, answered: answered() };
      if (!done()) return { error: `connection closed before every reply (${describe(got, v)})`, answered: answered() };
      if (v.requests.length === 1 && !v.requests[0]!.keepConn && !(await until(() => ended || closed, 3000))) {
        return { error: 'without KEEP_CONN the server did not close after END_REQUEST', answered: answered() };
      }
      const elapsed = Date.now() - started;
      const wrong = v.requests.map((r) => check(r, got.get(r.id)!, elapsed)).find((e) => e !== null);
      if (wrong) return { error: wrong, answered: answered() };
    } else if (c.fin === 'quiet') {
      await until(() => closed || Date.now() - lastData > 20, 2000);
    }
    socket.end();
    if (!(await until(() => closed, CLOSE_BOUND_MS))) {
      return { error: `hang: connection still open ${CLOSE_BOUND_MS} ms after our FIN`, answered: answered() };
    }
    if (malformed) return { error: malformed, answered: answered() };
    return { error: null, answered: answered() };
  } finally {
    socket.destroy();
  }
}

function describe(got: Map<number, Got>, v: ValidStream): string {
  return v.requests
    .map((r) => `${r.id} ${r.method} ${r.route}${r.aborted ? ' +abort' : ''}: ${got.get(r.id)?.end ? 'ended' : 'open'}`)
    .join(', ');
}

function split(stdout: Buffer): { status: number; body: Buffer } {
  const end = stdout.indexOf('\r\n\r\n');
  if (end < 0) return { status: -1, body: stdout };
  const m = /^Status: (\d{3})/im.exec(stdout.subarray(0, end).toString('latin1'));
  return { status: m ? Number(m[1]) : 200, body: stdout.subarray(end + 4) };
}

/** What a correct server answers for a valid request; null when it did. */
function check(r: PlannedRequest, g: Got, elapsed: number): string | null {
  const what = `request ${r.id} ${r.method} ${r.route}`;
  if (g.afterEnd) return `${what}: a record after its END_REQUEST`;
  if (g.end!.protocolStatus !== 0) return `${what}: protocolStatus ${g.end!.protocolStatus}`;
  if (r.aborted) return null;
  const { status, body } = split(Buffer.concat(g.stdout));
  // A valid input sent slowly (byte by byte, under load) may rightly outlast the server's timeouts.
  if (status === 503 && body.toString() === 'Request timed out\n' && elapsed >= FUZZ_LIMITS.requestTimeout) return null;
  if (status === 408 && elapsed >= FUZZ_LIMITS.bodyTimeout) return null;
  // ... or, its head already out, be cut by requestTimeout: END_REQUEST then says so (appStatus 1).
  if (g.end!.appStatus === 1 && elapsed >= FUZZ_LIMITS.requestTimeout) return null;
  if (r.oversize)
    return status === 431 ? null : `${what}: params over ${FUZZ_LIMITS.maxParamsBytes} bytes got ${status}, not 431`;
  const head = r.method === 'HEAD';
  const expect = (s: number, len?: number, text?: string | null): string | null => {
    if (status !== s) return `${what}: status ${status}, expected ${s}`;
    if (len !== undefined && body.length !== (head ? 0 : len))
      return `${what}: ${body.length} body bytes, expected ${len}`;
    if (text != null && body.toString('utf8') !== text)
      return `${what}: body ${JSON.stringify(body.subarray(0, 80).toString())}, expected ${JSON.stringify(text.slice(0, 80))}`;
    return null;
  };
  switch (r.route) {
    case '/echo':
    case '/hello':
    case '/json':
      return expect(200, undefined, expectedBody(r));
    case '/stream':
      return expect(200, r.chunks * 1000);
    case '/big':
      return expect(200, 300 * 1024);
    case '/slow':
      return expect(200, undefined, head ? '' : 'slow');
    case '/throw':
    case '/reject':
      return expect(500);
    case '/never':
      return expect(503, undefined, 'Request timed out\n');
    case '/late-throw':
      return g.end!.appStatus === 1 ? null : `${what}: appStatus ${g.end!.appStatus}, expected 1 (cut)`;
  }
}
