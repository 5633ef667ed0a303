// A CPU profile of @fcgi hello behind nginx (unix socket, keep-conn on) under wrk: the app runs
// with `node --cpu-prof`, and the profile is summarised by self time per function and per file.
// Runnable alone: node bench/profile.mjs [--seconds 10] [--keep-conn-off]
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastcgiLocation, startNginx, upstream } from './lib/nginx.mjs';
import { startProcess } from './lib/proc.mjs';
import { wrk } from './lib/wrk.mjs';
import { ROOT } from './peers.mjs';

/** "packages/core/dist/http/response.js" -> "core/src/http/response.ts"; node's own and native code by name. */
function where(url) {
  if (!url) return '(native)';
  const m = /\/packages\/([^/]+)\/dist\/(.+)\.js$/.exec(url);
  if (m) return `${m[1]}/src/${m[2]}.ts`;
  if (url.startsWith('node:')) return url;
  return url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, 'node_modules/');
}

const ours = (url) => /\/packages\/[^/]+\/dist\//.test(url);

/**
 * Self time per function and per file, in % of the samples where the app was not idle; and
 * `attributed`: self time charged to the nearest function of ours on the stack (so the native
 * and node code a function of ours calls counts for it), "(outside our code)" when there is none.
 */
export function summarise(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = ({ functionName, url, lineNumber }) =>
    `${where(url)}:${functionName || '(anonymous)'}${url ? `:${lineNumber + 1}` : ''}`;
  const nearestOurs = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at))
      if (ours(byId.get(at).callFrame.url)) return label(byId.get(at).callFrame);
    return '(outside our code)';
  };
  const attributed = new Map();
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fns = new Map();
  const files = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const file = where(url);
    const key = label({ functionName, url, lineNumber });
    fns.set(key, (fns.get(key) ?? 0) + us);
    const mine = nearestOurs(id);
    attributed.set(mine, (attributed.get(mine) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const pct = (us) => Math.round((1000 * us) / busy) / 10;
  const sorted = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, pct: pct(us) }));
  return {
    busyPct: Math.round((1000 * busy) / (busy + idle)) / 10,
    functions: sorted(fns),
    files: sorted(files),
    attributed: sorted(attributed),
  };
}

export async function runProfile({ seconds, warmup, outDir, log, keepConn = true }) {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-bench-prof-'));
  await mkdir(outDir, { recursive: true });
  const before = new Set(await readdir(outDir));
  const socket = join(dir, 'app.sock');
  const app = await startProcess(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-interval',
      '250',
      '--cpu-prof-dir',
      outDir,
      join(ROOT, 'bench/apps/fcgi-hello.mjs'),
      socket,
    ],
    {
      listen: socket,
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      graceMs: 10_000,
    },
  );
  let nginx = null;
  let m;
  try {
    nginx = await startNginx({
      upstreams: upstream('app', `unix:${socket}`, keepConn ? 64 : 0),
      locations: fastcgiLocation('/', 'app', { keepConn }),
    });
    const url = `http://127.0.0.1:${nginx.port}/`;
    if (warmup > 0) await wrk(url, { seconds: warmup });
    m = await wrk(url, { seconds });
    log(`  profiled run: ${Math.round(m.rps)} req/s`);
  } finally {
    await nginx?.stop();
    await app.stop(); // SIGTERM: the app exits normally and node writes the profile
    await rm(dir, { recursive: true, force: true });
  }
  const written = (await readdir(outDir)).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (written.length !== 1)
    throw new Error(`expected one new .cpuprofile in ${outDir}, found ${written.length}: ${app.output()}`);
  const file = join(outDir, written[0]);
  return { file, rps: m.rps, ...summarise(JSON.parse(await readFile(file, 'utf8'))) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--seconds');
  const r = await runProfile({
    seconds: i > 0 ? Number(process.argv[i + 1]) : 10,
    warmup: 2,
    outDir: join(ROOT, '.tmp/bench'),
    log: console.log,
    keepConn: !process.argv.includes('--keep-conn-off'),
  });
  console.log(`${r.file}\nbusy ${r.busyPct}% of the run`);
  for (const f of r.functions) console.log(`${String(f.pct).padStart(5)}%  ${f.name}`);
  console.log('attributed to our nearest function:');
  for (const f of r.attributed) console.log(`${String(f.pct).padStart(5)}%  ${f.name}`);
  console.log('by file:');
  for (const f of r.files) console.log(`${String(f.pct).padStart(5)}%  ${f.name}`);
}
