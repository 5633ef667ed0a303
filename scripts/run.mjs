#!/usr/bin/env node
// The README's commands: `npm test` and `npm start` on a fresh clone with only Node 20 and npm.
// Brings pnpm (pinned, through npx), installs the workspace from the lockfile, builds, then runs the
// test suite or the demo. For the tests, also installs the web servers they drive through apt-get
// when missing and this is a Debian-like machine where we are root.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemDeps } from './system-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = 'pnpm@12.4.2';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function onPath(bin) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, bin)));
}

function installSystemDeps() {
  const missing = systemDeps.filter((d) => !onPath(d.bin) && !d.paths.some((p) => existsSync(p)));
  if (missing.length === 0) return;
  const names = missing.map((d) => d.pkg);
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`> apt-get install ${names.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // The tests start each server on free loopback ports: keep apt from starting system services
    // (apache2 and lighttpd would both want port 80).
    const policy = '/usr/sbin/policy-rc.d';
    const addPolicy = !existsSync(policy);
    if (addPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      run('apt-get', ['update', '-qq'], { env });
      run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { env });
    } finally {
      if (addPolicy) rmSync(policy, { force: true });
    }
  } else {
    console.warn(
      `! missing ${names.join(', ')}: the tests that need them will fail (install them, e.g. apt-get install ${names.join(' ')})`,
    );
  }
}

const what = process.argv[2];
if (what !== 'test' && what !== 'demo') {
  console.error('usage: node scripts/run.mjs test|demo');
  process.exit(2);
}
run('npx', ['--yes', PNPM, 'install', '--frozen-lockfile', '--reporter=append-only']);
// Every package, in dependency order (tsc -b follows their references).
const packages = readdirSync(join(root, 'packages')).map((p) => join('packages', p));
run(join(root, 'node_modules/.bin/tsc'), ['-b', ...packages]);
if (what === 'test') {
  installSystemDeps();
  run(process.execPath, ['scripts/test.mjs', ...process.argv.slice(3)]);
} else {
  run(process.execPath, ['--import', 'tsx', 'examples/demo.ts']);
}
