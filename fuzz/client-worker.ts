// Worker-thread entry: runs its share of the inputs (see connection-fuzz.ts), reporting progress.
import { parentPort, workerData } from 'node:worker_threads';
import { runBatch } from './batch.js';

const { path, seed, concurrency, range } = workerData as {
  path: string;
  seed: number;
  concurrency: number;
  range: { from: number; to: number; stride: number; deadline: number };
};
const result = await runBatch(path, seed, range, concurrency, (inputs) =>
  parentPort!.postMessage({ progress: inputs }),
);
parentPort!.postMessage({ result });
