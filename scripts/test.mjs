#!/usr/bin/env node
// Runs every test file with Node's test runner (TypeScript through tsx), after the import-layer
// check, the build, the type check and the API report. Unit tests sit beside their sources
// (packages/*/src/**/*.test.ts), end-to-end tests in test/. Arguments narrow the run to files whose
// path contains one of them.
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

function step(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const tsc = join(root, 'node_modules/.bin/tsc');
const packages = readdirSync(join(root, 'packages')).map((p) => join('packages', p));
// Imports point one way (CHECK_LAYERS_REPORT_ONLY=1 lists wrong arrows without failing).
step(process.execPath, ['scripts/check-layers.mjs']);
// Build the packages (test/ imports their dist), type-check everything, then compare the public API
// of the built declarations with packages/*/api.md.
step(tsc, ['-b', ...packages]);
step(tsc, ['-p', 'tsconfig.json']);
step(process.execPath, ['scripts/api-report.mjs']);
// A full run (CI's) also lints and checks the formatting (Biome).
if (filters.length === 0) step(process.execPath, [join(root, 'scripts/lint.mjs')]);

const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
