#!/usr/bin/env node
// Runs every test file with Node's test runner (TypeScript through tsx), after a type check.
// Unit tests sit beside their sources (packages/*/src/**/*.test.ts), end-to-end tests in test/.
// Arguments narrow the run to files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [...walk(join(root, 'packages'), []), ...walk(join(root, 'test'), [])]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const tsc = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// A full run (CI's) also lints: Biome's linter, and its format check once that is switched on.
if (filters.length === 0) {
  const lint = spawnSync(process.execPath, [join(root, 'scripts/lint.mjs')], { stdio: 'inherit', cwd: root });
  if (lint.status !== 0) process.exit(lint.status ?? 1);
}

const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files,
], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
