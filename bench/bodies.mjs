// Big bodies through nginx: a 1 GiB download and a 100 MiB upload, @fcgi against node-fastcgi,
// and the download against nginx serving the same file itself, and @fcgi's res.sendFile() handing
// the file to nginx (X-Accel-Redirect) instead of streaming it. curl is the client; the app's
// memory is sampled from /proc while it runs (VmRSS every 20 ms, VmHWM at the end).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fastcgiLocation, proxyLocation, startNginx, upstream } from './lib/nginx.mjs';
import { memory, run, startProcess } from './lib/proc.mjs';
import { ROOT } from './peers.mjs';

const MiB = 1024 * 1024;
const APPS = {
  fcgi: 'bench/apps/fcgi-files.mjs',
  accel: 'bench/apps/fcgi-sendfile.mjs',
  nfc: 'bench/apps/nfc-files.cjs',
  http: 'bench/apps/node-http-files.mjs',
};

async function makeFile(path, bytes) {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  const out = createWriteStream(path);
  for (let done = 0; done < bytes; done += MiB) {
    if (!out.write(block)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
}

/**
 * nginx in front: the app by FastCGI (kept connection, request body streamed to the app, no temp
 * file for the response: nginx reads the app only as fast as the client takes it), or by
 * proxy_pass for Node's http server, the same way; `/static.bin` the file served by nginx itself;
 * `/_offload/` the internal location X-Accel-Redirect answers point into (the file's directory).
 */
function site(app, socket, file) {
  const extra = (p) => `
      ${p}_request_buffering off;
      ${p}_max_temp_file_size 0;`;
  const location =
    app === 'http'
      ? proxyLocation('/', 'app', { extra: extra('proxy') })
      : fastcgiLocation('/', 'app', { keepConn: true, extra: extra('fastcgi') });
  return {
    http: '  client_max_body_size 0;\n  sendfile on;\n',
    upstreams: upstream('app', `unix:${socket}`, 8),
    locations:
      `${location}    location = /static.bin { alias ${file}; }\n` +
      `    location /_offload/ { internal; alias ${dirname(file)}/; }\n`,
  };
}

async function curl(args) {
  const r = await run(
    'curl',
    ['-sS', '--fail', '-H', 'Expect:', '-w', '\n%{time_total} %{size_download} %{size_upload}', ...args],
    { ms: 300_000 },
  );
  if (r.code !== 0) throw new Error(`curl ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stdout.trimEnd().split('\n');
  const [time, down, up] = lines.at(-1).split(' ').map(Number);
  return { body: lines.slice(0, -1).join('\n'), time, down, up };
}

/** One transfer: `app` ('fcgi', 'nfc' or null for nginx itself), `dir`ection 'down' or 'up'. */
let serial = 0;
async function transfer(app, dir, files, tmp) {
  const socket = join(tmp, `app-${++serial}.sock`);
  const proc = app
    ? await startProcess(process.execPath, [join(ROOT, APPS[app]), socket], {
        listen: socket,
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'production', BENCH_FILE: files.down },
      })
    : null;
  const nginx = await startNginx(site(app, socket, files.down));
  let peak = 0;
  let sampler;
  try {
    const before = proc ? memory(proc.pid).rss : 0;
    if (proc) sampler = setInterval(() => (peak = Math.max(peak, memory(proc.pid).rss)), 20);
    const base = `http://127.0.0.1:${nginx.port}`;
    let r;
    if (dir === 'down') {
      r = await curl(['-o', '/dev/null', app ? `${base}/download` : `${base}/static.bin`]);
      if (r.down !== files.downBytes) throw new Error(`downloaded ${r.down} of ${files.downBytes} bytes`);
    } else {
      r = await curl(['-X', 'POST', '-T', files.up, `${base}/upload`]);
      if (r.body.trim() !== String(files.upBytes))
        throw new Error(`the app read ${r.body.trim()} of ${files.upBytes} bytes`);
    }
    const bytes = dir === 'down' ? r.down : r.up;
    if (proc) peak = Math.max(peak, memory(proc.pid).hwm);
    return { mbps: bytes / r.time / 1e6, seconds: r.time, rssGrowthMB: proc ? (peak - before) / 1e6 : null };
  } finally {
    clearInterval(sampler);
    await nginx.stop();
    await proc?.stop();
  }
}

/** Runs each transfer `runs` times (interleaved); medians of MB/s, largest RSS growth. */
export async function runBodies({ runs, quick, log }) {
  const tmp = await mkdtemp(join(tmpdir(), 'fcgi-bench-bodies-'));
  const files = {
    down: join(tmp, 'down.bin'),
    up: join(tmp, 'up.bin'),
    downBytes: (quick ? 256 : 1024) * MiB,
    upBytes: (quick ? 32 : 100) * MiB,
  };
  const rows = [
    { id: 'down-fcgi', label: '@fcgi, download', app: 'fcgi', dir: 'down' },
    { id: 'down-fcgi-accel', label: '@fcgi, res.sendFile with X-Accel-Redirect', app: 'accel', dir: 'down' },
    { id: 'down-nfc', label: 'node-fastcgi 2.0, download', app: 'nfc', dir: 'down' },
    { id: 'down-http', label: 'Node http server behind proxy_pass, download', app: 'http', dir: 'down' },
    { id: 'down-nginx', label: 'nginx serving the file itself', app: null, dir: 'down' },
    { id: 'up-fcgi', label: '@fcgi, upload', app: 'fcgi', dir: 'up' },
    { id: 'up-nfc', label: 'node-fastcgi 2.0, upload', app: 'nfc', dir: 'up' },
    { id: 'up-http', label: 'Node http server behind proxy_pass, upload', app: 'http', dir: 'up' },
  ];
  const out = { sizes: { downMiB: files.downBytes / MiB, upMiB: files.upBytes / MiB } };
  try {
    await makeFile(files.down, files.downBytes);
    await makeFile(files.up, files.upBytes);
    for (const row of rows) out[row.id] = { label: row.label, runs: [] };
    for (let r = 1; r <= runs; r++) {
      for (const row of rows) {
        try {
          const m = await transfer(row.app, row.dir, files, tmp);
          out[row.id].runs.push(m);
          log(
            `  [${r}/${runs}] ${row.id.padEnd(15)} ${m.mbps.toFixed(0).padStart(5)} MB/s${m.rssGrowthMB === null ? '' : `  RSS +${m.rssGrowthMB.toFixed(1)} MB`}`,
          );
        } catch (e) {
          out[row.id].failed = String(e.message ?? e).slice(0, 500);
          log(`  [${r}/${runs}] ${row.id}: FAILED ${out[row.id].failed}`);
        }
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return out;
}
