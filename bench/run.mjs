#!/usr/bin/env node
// The benchmark suite, one command on a fresh machine (`npm run bench`): brings the workspace
// (pinned pnpm, frozen lockfile) and builds it, installs the web servers and peers with apt-get when
// missing and we are root, then measures and prints a report with ratios and the project's targets.
//
//   node bench/run.mjs [--quick] [--runs N] [--seconds S] [--warmup S] [--only http,bodies,fcgid,memory,micro,profile]
//                      [--rows fcgi-on,go-on,...] [--no-setup]
//
// Default: every section, throughput as the median of 3 runs of 10 s each (after a 2 s warm-up).
// --quick: 1 run of 3 s, smaller bodies: a smoke run. Results also go to .tmp/bench/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './peers.mjs';

const PNPM = 'pnpm@12.4.2';
const SECTIONS = ['micro', 'http', 'bodies', 'fcgid', 'memory', 'profile'];
/** What the suite drives: the Debian package and a file that shows it is installed. */
const SYSTEM = [
  ['wrk', '/usr/bin/wrk'],
  ['nginx', '/usr/sbin/nginx'],
  ['curl', '/usr/bin/curl'],
  ['golang-go', '/usr/bin/go'],
  ['php-fpm', '/usr/sbin/php-fpm8.2'],
  ['apache2', '/usr/sbin/apache2'],
  ['libapache2-mod-fcgid', '/usr/lib/apache2/modules/mod_fcgid.so'],
  ['spawn-fcgi', '/usr/bin/spawn-fcgi'],
  ['gcc', '/usr/bin/gcc'],
  ['libc6-dev', '/usr/include/stdio.h'],
  ['libfcgi-dev', '/usr/include/fcgiapp.h'],
];

function args() {
  const a = process.argv.slice(2);
  const val = (name) => (a.includes(name) ? a[a.indexOf(name) + 1] : undefined);
  const quick = a.includes('--quick');
  return {
    quick,
    setup: !a.includes('--no-setup'),
    runs: Number(val('--runs') ?? (quick ? 1 : 3)),
    seconds: Number(val('--seconds') ?? val('--duration') ?? (quick ? 3 : 10)),
    warmup: Number(val('--warmup') ?? (quick ? 1 : 2)),
    only: (val('--only') ?? SECTIONS.join(',')).split(','),
    rows: val('--rows')?.split(','),
  };
}

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function setup() {
  sh('npx', ['--yes', PNPM, 'install', '--frozen-lockfile', '--reporter=append-only']);
  sh(join(ROOT, 'node_modules/.bin/tsc'), [
    '-b',
    ...readdirSync(join(ROOT, 'packages')).map((p) => join('packages', p)),
  ]);
  // PHP's binary carries its version: any php-fpm* in /usr/sbin will do.
  const missing = SYSTEM.filter(
    ([pkg, file]) =>
      !existsSync(file) && !(pkg === 'php-fpm' && readdirSync('/usr/sbin').some((n) => /^php-fpm\d/.test(n))),
  );
  if (!missing.length) return;
  const names = missing.map(([pkg]) => pkg);
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    sh('apt-get', ['update', '-qq'], { env });
    sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { env });
  } else {
    console.warn(
      `! missing ${names.join(', ')}: the rows that need them are skipped (apt-get install ${names.join(' ')})`,
    );
  }
}

function version(cmd, argv, re) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'n/a';
}

function machine(load0) {
  const v = [
    `Node ${process.version.slice(1)}`,
    `nginx ${version('/usr/sbin/nginx', ['-v'], /nginx\/(\S+)/)}`,
    `Go ${version('go', ['version'], /go(\d\S*)/)}`,
    `PHP ${version('php-fpm8.2', ['-v'], /PHP (\S+)/)}`,
    `Apache ${version('/usr/sbin/apache2', ['-v'], /Apache\/(\S+)/)}`,
    `wrk ${version('wrk', ['-v'], /wrk (\S+)/)}`,
  ];
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  return (
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}; ${v.join(', ')}. ` +
    `Load average (1/5/15 min) at the start ${load(load0)}, at the end ${load(loadavg())}.`
  );
}

const opt = args();
if (opt.setup) setup();
const log = (s) => console.log(s);
const load0 = loadavg();
const results = {
  meta: {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    runs: opt.runs,
    seconds: opt.seconds,
  },
};
const outDir = join(ROOT, '.tmp/bench');
mkdirSync(outDir, { recursive: true });
// Imported after setup: they need the workspace installed and built.
if (opt.only.includes('micro')) {
  log('# parser and encoder (in process)');
  results.micro = (await import('./micro.mjs')).runMicro({ quick: opt.quick, log });
}
if (opt.only.includes('http')) {
  log(`# through nginx: ${opt.runs} × ${opt.seconds} s per row`);
  results.http = await (await import('./http.mjs')).runHttp({ ...opt, only: opt.rows, log });
}
if (opt.only.includes('bodies')) {
  log('# big bodies');
  results.bodies = await (await import('./bodies.mjs')).runBodies({ ...opt, log });
}
if (opt.only.includes('fcgid')) {
  const { runFcgid, fcgidMissing } = await import('./fcgid.mjs');
  log('# Apache mod_fcgid');
  const missing = fcgidMissing();
  if (missing) log(`  skipped: ${missing}`);
  else results.fcgid = await runFcgid({ ...opt, colds: opt.quick ? 3 : 7, log });
}
if (opt.only.includes('memory')) {
  log('# memory of one process (bench/memory.mjs)');
  const { runMemory } = await import('./memory.mjs');
  results.memory = await runMemory({ runs: opt.quick ? 3 : 7, bisect: !opt.quick, log });
}
if (opt.only.includes('profile')) {
  log('# CPU profile of @fcgi hello');
  results.profile = await (await import('./profile.mjs')).runProfile({
    seconds: opt.seconds,
    warmup: opt.warmup,
    outDir,
    log,
  });
}
results.meta.machine = machine(load0);
const md = (await import('./report.mjs')).report(results);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(join(outDir, `results-${stamp}.json`), JSON.stringify(results, null, 2));
writeFileSync(join(outDir, `report-${stamp}.md`), md);
console.log(`\n${md}\n(saved in .tmp/bench/report-${stamp}.md)`);
