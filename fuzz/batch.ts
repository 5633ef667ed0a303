// Runs a range of fuzz inputs against a server's socket, several connections at once, in whichever
// thread calls it (the main thread, or a worker so the clients get their own core).
import { runCase, type FuzzCase } from './client.js';
import { validStream } from './inputs.js';
import { chunking, garbage, mutate } from './mutate.js';
import { Rng } from './rng.js';

export interface FuzzFailure {
  index: number;
  kind: string;
  applied: string[];
  error: string;
}

export interface BatchResult {
  inputs: number;
  byKind: Record<FuzzCase['kind'], number>;
  answered: number;
  bytesSent: number;
  failures: FuzzFailure[];
}

/** The input `index` of a run seeded `seed`: the same on every machine. */
export function makeCase(seed: number, index: number): FuzzCase {
  const rng = Rng.forInput(seed, index);
  const r = rng.next();
  const kind: FuzzCase['kind'] = r < 0.2 ? 'valid' : r < 0.97 ? 'mutated' : 'garbage';
  let valid = null;
  let bytes: Buffer;
  let applied: string[] = [];
  if (kind === 'garbage') bytes = garbage(rng);
  else {
    valid = validStream(rng);
    if (kind === 'valid') bytes = Buffer.concat(valid.records);
    else ({ bytes, applied } = mutate(valid.records, rng));
  }
  return {
    index,
    kind,
    valid,
    bytes,
    applied,
    chunks: chunking(rng, bytes.length),
    fin: rng.chance(0.5) ? 'now' : 'quiet',
  };
}

export function emptyResult(): BatchResult {
  return { inputs: 0, byKind: { valid: 0, mutated: 0, garbage: 0 }, answered: 0, bytesSent: 0, failures: [] };
}

export function addResult(into: BatchResult, r: BatchResult): void {
  into.inputs += r.inputs;
  for (const k of ['valid', 'mutated', 'garbage'] as const) into.byKind[k] += r.byKind[k];
  into.answered += r.answered;
  into.bytesSent += r.bytesSent;
  into.failures.push(...r.failures);
}

/**
 * Inputs from, from + stride, ... below `to` of `seed`, `concurrency` connections at a time, with
 * no barrier between them; stops starting inputs after `deadline` (ms since epoch) or 5 failures.
 * `progress` hears the count of inputs done every 500.
 */
export async function runBatch(
  path: string,
  seed: number,
  range: { from: number; to: number; stride?: number; deadline?: number },
  concurrency: number,
  progress?: (inputs: number) => void,
): Promise<BatchResult> {
  const out = emptyResult();
  const stride = range.stride ?? 1;
  const deadline = range.deadline ?? Infinity;
  let next = range.from;
  const worker = async (): Promise<void> => {
    while (next < range.to && Date.now() < deadline && out.failures.length < 5) {
      const c = makeCase(seed, next);
      next += stride;
      const r = await runCase(path, c);
      out.inputs++;
      out.byKind[c.kind]++;
      out.answered += r.answered;
      out.bytesSent += c.bytes.length;
      if (r.error) out.failures.push({ index: c.index, kind: c.kind, applied: c.applied, error: r.error });
      if (out.inputs % 500 === 0) progress?.(out.inputs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out;
}
