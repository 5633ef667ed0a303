// workerCount: how the workers option and FCGI_WORKERS are read.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { it } from 'node:test';
import { workerCount } from './workers.js';

it('workerCount: nothing is 0 (serve in this process), a count, or one per CPU with "auto"', () => {
  assert.equal(workerCount(undefined), 0);
  assert.equal(workerCount(''), 0);
  assert.equal(workerCount(0), 0);
  assert.equal(workerCount(3), 3);
  assert.equal(workerCount('2'), 2);
  assert.equal(workerCount('auto'), availableParallelism());
});

it('workerCount: anything else is refused', () => {
  assert.throws(() => workerCount(-1), RangeError);
  assert.throws(() => workerCount('two'), /workers must be/);
  assert.throws(() => workerCount(1.5), RangeError);
});
