// The seeded mutation fuzzer over a live connection: a real in-process FcgiServer on a unix socket,
// attacked with valid, mutated and garbage FastCGI streams on many concurrent connections.
// Checks: the process never dies (no uncaught error), no connection hangs (each closes within a
// bound after our FIN), valid inputs get exactly the right answers, the server emits only
// well-formed records, and memory stays flat (heapUsed after GC, end vs start).
//
//   node --import tsx fuzz/connection-fuzz.ts --inputs 1000000 [--seconds N] [--concurrency 256] [--workers 1]
//   FUZZ_SEED=<n> reruns a run; FUZZ_SEED=<n> FUZZ_INDEX=<i> reruns one input alone.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addResult, emptyResult, runBatch, type BatchResult, type FuzzFailure } from './batch.js';
import { startFuzzServer } from './server.js';
// Type-checked with the rest (it is loaded at run time by URL, in a worker).
import type {} from './client-worker.js';

export { makeCase, type FuzzFailure } from './batch.js';

export interface FuzzOptions {
  seed: number;
  /** Most inputs to run. */
  inputs: number;
  /** Stop starting inputs after this many seconds (default: no time limit). */
  seconds?: number;
  /** Connections in flight at once. */
  concurrency?: number;
  /** Client threads: 0 runs the clients in this thread, beside the server (default 1: a core each). */
  workers?: number;
  /** Run only this input index. */
  only?: number;
  log?(line: string): void;
}

export interface FuzzReport extends BatchResult {
  seed: number;
  protocolErrors: number;
  handlerErrors: number;
  seconds: number;
  /** The server's thread: heapUsed after GC once warmed up, and at the end. */
  heapStartMB: number;
  heapEndMB: number;
  peakRssMB: number;
  /** Server state once every client closed: both must be 0. */
  leftConnections: number;
  leftRequests: number;
}

/** The engine's gc(), exposed at run time so no command-line flag is needed. */
function getGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const MB = 1024 * 1024;

/** A client thread; TypeScript is loaded through tsx's API since a worker's entry skips --import hooks. */
function startWorker(data: unknown): Worker {
  const entry = new URL('./client-worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: data });
}

export async function runConnectionFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const concurrency = o.concurrency ?? 256;
  const gc = getGc();
  const failures: FuzzFailure[] = [];
  const uncaught = (err: unknown) =>
    failures.push({ index: -1, kind: 'process', applied: [], error: `uncaught: ${(err as Error)?.stack ?? err}` });
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', uncaught);
  const app = await startFuzzServer();
  const started = Date.now();
  const deadline = o.seconds === undefined ? Infinity : started + o.seconds * 1000;
  const from = o.only ?? 0;
  const to = o.only === undefined ? o.inputs : o.only + 1;
  const workers = o.only !== undefined ? 0 : (o.workers ?? 1);
  let lastLog = started;
  let heapStart = -1;
  const done = new Array<number>(Math.max(1, workers)).fill(0);
  const progress = (k: number, inputs: number): void => {
    done[k] = inputs;
    const sum = done.reduce((a, b) => a + b, 0);
    // The server's heap, once warmed up: the baseline the end is compared with.
    if (heapStart < 0 && sum >= Math.min(1000, to / 10)) {
      gc();
      heapStart = process.memoryUsage().heapUsed;
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const sec = (lastLog - started) / 1000;
      log(
        `${sum} inputs in ${sec.toFixed(0)} s (${(sum / sec).toFixed(0)}/s), rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB`,
      );
    }
  };
  const threads: Worker[] = [];
  const total = emptyResult();
  let report: FuzzReport;
  try {
    if (workers === 0) {
      addResult(total, await runBatch(app.path, o.seed, { from, to, deadline }, concurrency, (n) => progress(0, n)));
    } else {
      // Worker k runs inputs k, k + workers, ...: each index still means the same input.
      const results = await Promise.all(
        Array.from(
          { length: workers },
          (_, k) =>
            new Promise<BatchResult>((resolve, reject) => {
              const w = startWorker({
                path: app.path,
                seed: o.seed,
                concurrency: Math.ceil(concurrency / workers),
                range: { from: from + k, to, stride: workers, deadline },
              });
              threads.push(w);
              w.on('error', reject);
              w.on('message', (m: { progress?: number; result?: BatchResult }) => {
                if (m.progress !== undefined) progress(k, m.progress);
                if (m.result) resolve(m.result);
              });
            }),
        ),
      );
      for (const r of results) addResult(total, r);
    }
    total.failures.push(...failures);
    const seconds = (Date.now() - started) / 1000;
    // Every client closed: the server must be back to nothing in flight.
    const settle = Date.now() + 5000;
    while ((app.server.connections > 0 || app.server.activeRequests > 0) && Date.now() < settle) {
      await new Promise((r) => setTimeout(r, 20));
    }
    gc();
    gc();
    const heapEnd = process.memoryUsage().heapUsed;
    const proto = Object.prototype as Record<string, unknown>;
    if (proto.x !== undefined || proto.y !== undefined)
      total.failures.push({ index: -1, kind: 'process', applied: [], error: 'Object.prototype was polluted' });
    report = {
      ...total,
      seed: o.seed,
      seconds,
      protocolErrors: app.protocolErrors,
      handlerErrors: app.handlerErrors,
      heapStartMB: (heapStart < 0 ? heapEnd : heapStart) / MB,
      heapEndMB: heapEnd / MB,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      leftConnections: app.server.connections,
      leftRequests: app.server.activeRequests,
    };
  } finally {
    for (const w of threads) await w.terminate();
    await app.stop();
    process.off('uncaughtException', uncaught);
    process.off('unhandledRejection', uncaught);
  }
  return report;
}

/** One line per fact, for a terminal and for docs/reliability.md. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `seed ${r.seed}: ${r.inputs} inputs (${r.byKind.valid} valid, ${r.byKind.mutated} mutated, ${r.byKind.garbage} garbage) in ${r.seconds.toFixed(1)} s`,
    `${(r.bytesSent / MB).toFixed(1)} MB sent, ${r.answered} END_REQUESTs received, ${r.protocolErrors} connections closed for protocol errors, ${r.handlerErrors} handler errors`,
    `heapUsed after GC: ${r.heapStartMB.toFixed(1)} MB after warm-up, ${r.heapEndMB.toFixed(1)} MB at the end; peak RSS ${r.peakRssMB.toFixed(0)} MB`,
    `left on the server: ${r.leftConnections} connections, ${r.leftRequests} requests`,
  ];
  for (const f of r.failures)
    lines.push(
      `FAIL input ${f.index} (${f.kind}${f.applied.length ? `: ${f.applied.join(', ')}` : ''}): ${f.error}` +
        (f.index >= 0
          ? `\n  reproduce: FUZZ_SEED=${r.seed} FUZZ_INDEX=${f.index} node --import tsx fuzz/connection-fuzz.ts`
          : ''),
    );
  return lines.join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const seed = Number(process.env.FUZZ_SEED ?? arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const onlyText = process.env.FUZZ_INDEX ?? arg('index');
  const inputs = Number(arg('inputs') ?? 100_000);
  const seconds = arg('seconds');
  console.log(`connection fuzz: FUZZ_SEED=${seed}${onlyText ? ` FUZZ_INDEX=${onlyText}` : ''}, up to ${inputs} inputs`);
  const report = await runConnectionFuzz({
    seed,
    inputs,
    ...(seconds ? { seconds: Number(seconds) } : {}),
    ...(arg('concurrency') ? { concurrency: Number(arg('concurrency')) } : {}),
    ...(arg('workers') ? { workers: Number(arg('workers')) } : {}),
    ...(onlyText ? { only: Number(onlyText) } : {}),
    log: (s) => console.log(s),
  });
  console.log(formatReport(report));
  const growth = report.heapEndMB - report.heapStartMB;
  const ok = report.failures.length === 0 && report.leftConnections === 0 && report.leftRequests === 0 && growth < 16;
  console.log(ok ? 'PASS' : `FAIL${growth >= 16 ? `: heap grew ${growth.toFixed(1)} MB` : ''}`);
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
