// The report: medians and ratios of what the runner measured, as markdown tables, and each target
// of the project checked (met, missed by how much, or not measurable yet).
import { memoryTable } from './memory.mjs';

export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const num = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const rps = (row) => (row?.runs?.length ? median(row.runs.map((r) => r.rps)) : NaN);
const range = (row) =>
  row?.runs?.length
    ? `${num(Math.min(...row.runs.map((r) => r.rps)))}–${num(Math.max(...row.runs.map((r) => r.rps)))}`
    : '';
const why = (row) => row?.skipped ?? (row?.failed ? `failed: ${row.failed}` : 'not run');
const cpu = (row, key) => median(row?.runs?.map((r) => r[key]).filter((x) => Number.isFinite(x)) ?? []);

/**
 * a ÷ b in req/s: the median of the per-round ratios when both have every round (rounds are
 * interleaved, so each pair was measured minutes apart under the same load), else of the medians.
 */
export function ratio(a, b) {
  if (a?.runs?.length && a.runs.length === b?.runs?.length) return median(a.runs.map((r, i) => r.rps / b.runs[i].rps));
  return rps(a) / rps(b);
}

function httpTable(http) {
  const base = http['fcgi-on'];
  const lines = [
    '| row | req/s (median) | range | @fcgi hello ÷ row | app CPU per request | nginx CPU per request |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of Object.values(http)) {
    if (!row.runs?.length) lines.push(`| ${row.label} | ${why(row)} | | | | |`);
    else {
      const app = cpu(row, 'appUs');
      const r = ratio(base, row);
      lines.push(
        `| ${row.label} | ${num(rps(row))} | ${range(row)} | ${Number.isFinite(r) ? `${num(r, 2)}×` : '—'} | ${Number.isFinite(app) ? `${num(app)} µs` : '—'} | ${num(cpu(row, 'nginxUs'))} µs |`,
      );
    }
  }
  return lines.join('\n');
}

const pcts = (xs) => xs.map((x) => `${Math.round(100 * x)}`).join(' / ');

/**
 * Rows whose app runs several processes: how the requests (from the app's status page) and the
 * CPU time spread over them, each run. The least-served worker's share is the balance figure.
 */
function sharesTable(http) {
  const lines = [
    '| row | requests per worker, % (each run) | least-served worker, % of requests | CPU per process, % (first: primary or master) |',
    '|---|---|---:|---|',
  ];
  for (const row of Object.values(http)) {
    const runs = row.runs?.filter((r) => r.shares) ?? [];
    if (!runs.length) continue;
    const req = runs.filter((r) => r.shares.requests?.length);
    const least = req.length ? Math.min(...req.map((r) => Math.min(...r.shares.requests))) : NaN;
    lines.push(
      `| ${row.label} | ${req.map((r) => pcts(r.shares.requests)).join('; ') || '—'} | ${Number.isFinite(least) ? num(100 * least) : '—'} | ${runs.map((r) => pcts(r.shares.cpu)).join('; ')} |`,
    );
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

/** The smallest share of requests any worker of row `id` took in any run (null when not measured). */
function leastShare(row) {
  const req = row?.runs?.filter((r) => r.shares?.requests?.length) ?? [];
  return req.length ? Math.min(...req.map((r) => Math.min(...r.shares.requests))) : null;
}

/** Rows measured again with BENCH_BASELINE's checkout: after ÷ before, paired by round. */
function baselineTable(http) {
  const lines = [
    '| row | after req/s | before req/s | after ÷ before | app CPU/req after | before |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [id, before] of Object.entries(http)) {
    if (!id.endsWith('-base')) continue;
    const after = http[id.slice(0, -'-base'.length)];
    if (!after?.runs?.length || !before.runs?.length) continue;
    lines.push(
      `| ${after.label} | ${num(rps(after))} | ${num(rps(before))} | ${num(ratio(after, before), 2)}× | ${num(cpu(after, 'appUs'))} µs | ${num(cpu(before, 'appUs'))} µs |`,
    );
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

function bodiesTable(b) {
  const nginx = median(b['down-nginx']?.runs?.map((r) => r.mbps) ?? []);
  const lines = [
    `| transfer (${b.sizes.downMiB} MiB down, ${b.sizes.upMiB} MiB up) | MB/s (median) | ÷ nginx static | app's peak RSS growth (max) |`,
    '|---|---:|---:|---:|',
  ];
  for (const [id, row] of Object.entries(b)) {
    if (id === 'sizes') continue;
    if (!row.runs?.length) {
      lines.push(`| ${row.label} | ${why(row)} | | |`);
      continue;
    }
    const mbps = median(row.runs.map((r) => r.mbps));
    const rss =
      row.runs[0].rssGrowthMB === null ? '—' : `${num(Math.max(...row.runs.map((r) => r.rssGrowthMB)), 1)} MB`;
    lines.push(
      `| ${row.label} | ${num(mbps)} | ${id.startsWith('down') ? `${num((100 * mbps) / nginx)} %` : ''} | ${rss} |`,
    );
  }
  return lines.join('\n');
}

function fcgidTable(f) {
  const lines = [
    `| bundled hello under mod_fcgid (max ${f.procs} processes, wrk -c${f.procs}) | req/s (median) | p99 (median) | cold start, median (min–max) |`,
    '|---|---:|---:|---:|',
  ];
  for (const [name, label] of [
    ['fcgi', '@fcgi'],
    ['fcgi-first', "@fcgi, a script's first process (no code cache yet)"],
    ['nfc', 'node-fastcgi 2.0'],
  ]) {
    if (!f[`cold-${name}`]) continue;
    const t = f[`tput-${name}`];
    const c = f[`cold-${name}`]?.times ?? [];
    const kb = f[`bytes-${name}`] ? ` (bundle ${num(f[`bytes-${name}`] / 1024)} KB)` : '';
    lines.push(
      `| ${label}${kb} | ${num(rps(t))} | ${num(median(t?.runs?.map((r) => r.p99) ?? []))} ms | ${num(median(c))} ms (${num(Math.min(...c))}–${num(Math.max(...c))}) |`,
    );
  }
  const floor = f.nodeFloor?.times ?? [];
  lines.push(`| \`node -e 0\` (spawn to exit, for scale) | | | ${num(median(floor))} ms |`);
  return lines.join('\n');
}

const MICRO = {
  'parse-large': 'parse 65535-byte STDIN records (content as views)',
  'parse-large-copy': 'parse 65535-byte STDIN records, sink copies the content',
  'parse-small': 'parse 100-byte STDIN records',
  'parse-requests': 'parse nginx-like requests (BEGIN, 1 KB PARAMS decoded, 2 empty)',
  'encode-large': 'encode 65535-byte STDOUT records',
  'encode-small': 'encode a small response (STDOUT, empty STDOUT, END_REQUEST)',
};

function microTable(m) {
  const lines = [
    '| case | @fcgi records/s | @fcgi MB/s | fastcgi-stream records/s | fastcgi-stream MB/s | ratio |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [id, label] of Object.entries(MICRO)) {
    const r = m[id];
    if (!r) continue;
    const t = r.theirs;
    lines.push(
      `| ${label} | ${num(r.ours.perSec)} | ${num(r.ours.mbps)} | ${t ? num(t.perSec) : ''} | ${t ? num(t.mbps) : ''} | ${t ? `${num(r.ours.perSec / t.perSec, 1)}×` : ''} |`,
    );
  }
  return lines.join('\n');
}

/** The project's targets: `value(results)` is null when it cannot be measured (with `missing`). */
function targets(res) {
  const h = res.http ?? {};
  const has = (...ids) => ids.every((id) => h[id]?.runs?.length);
  const hmiss = (...ids) =>
    [
      ...new Set(
        ids
          .map((id) => h[id])
          .filter((r) => !r?.runs?.length)
          .map(why),
      ),
    ].join('; ');
  // `cpu`: the same comparison by the app's CPU time per request (b's ÷ a's), less moved by load.
  const http = (name, a, b, need) => ({
    name,
    need,
    unit: '×',
    value: has(a, b) ? ratio(h[a], h[b]) : null,
    missing: hmiss(a, b),
    cpu: has(a, b) ? cpu(h[b], 'appUs') / cpu(h[a], 'appUs') : NaN,
  });
  const b = res.bodies ?? {};
  const bmed = (id) => median(b[id]?.runs?.map((r) => r.mbps) ?? []);
  const rssMax = (...ids) => Math.max(...ids.flatMap((id) => b[id]?.runs?.map((r) => r.rssGrowthMB) ?? [NaN]));
  const m = res.micro ?? {};
  const f = res.fcgid ?? {};
  const mem = res.memory?.apps ?? {};
  const rssMB = (row) => mem[row]?.fd0?.rss / 2 ** 20;
  const orNull = (x) => (Number.isFinite(x) ? x : null);
  return [
    http('hello, keep-conn on ÷ Go net/http/fcgi', 'fcgi-on', 'go-on', 2.0),
    http('hello, keep-conn on ÷ node-fastcgi', 'fcgi-on', 'nfc-on', 4.0),
    http("hello, keep-conn on ÷ Node's http server behind proxy_pass", 'fcgi-on', 'node-http', 1.0),
    http('hello, keep-conn off ÷ Go net/http/fcgi', 'fcgi-off', 'go-off', 1.3),
    http('TCP ÷ unix socket (keep-conn on), within 15 %', 'fcgi-tcp-on', 'fcgi-on', 0.85),
    http('TCP ÷ unix socket (keep-conn off), within 15 %', 'fcgi-tcp-off', 'fcgi-off', 0.85),
    // The same ratios for peers, measured in the same run: what TCP itself costs through nginx.
    {
      ...http('(for comparison) Go net/http/fcgi: TCP ÷ unix socket, keep-conn on', 'go-tcp-on', 'go-on', 0),
      info: true,
    },
    {
      ...http('(for comparison) Go net/http/fcgi: TCP ÷ unix socket, keep-conn off', 'go-tcp-off', 'go-off', 0),
      info: true,
    },
    {
      ...http("(for comparison) Node's http server: TCP ÷ unix socket, proxy_pass", 'node-http-tcp', 'node-http', 0),
      info: true,
    },
    http('app + router + JSON ÷ Express over node-fastcgi (JSON)', 'app-json', 'express-nfc-json', 3.0),
    http('Express over @fcgi ÷ Express over node-fastcgi (hello)', 'express-fcgi', 'express-nfc', 1.5),
    http('Express over @fcgi ÷ Express over node-fastcgi (JSON)', 'express-fcgi-json', 'express-nfc-json', 1.5),
    http('one process, keep-conn off ÷ C on libfcgi, keep-conn off', 'fcgi-off', 'c-off', 0.8),
    {
      ...http('(for comparison) one process ÷ C on libfcgi, keep-conn on', 'fcgi-on', 'c-on', 0),
      info: true,
    },
    http('`workers: 2` ÷ PHP-FPM with 4 workers (keep-conn on)', 'workers-on', 'php-on', 2.0),
    http('`workers: 2` ÷ PHP-FPM with 4 workers (keep-conn off)', 'workers-off', 'php-off', 1.0),
    http('`workers: 2` ÷ one @fcgi process (keep-conn off)', 'workers-off', 'fcgi-off', 1.8),
    // Evenly spread: with 2 workers neither takes less than 40 % of the requests in any run.
    ...['on', 'off'].map((k) => ({
      name: `\`workers: 2\`, keep-conn ${k}: the least-served worker's share of requests (any run)`,
      need: 40,
      unit: ' %',
      value: leastShare(h[`workers-${k}`]) === null ? null : 100 * leastShare(h[`workers-${k}`]),
      missing: hmiss(`workers-${k}`) || 'no per-worker counts',
    })),
    {
      name: 'cold start under mod_fcgid (median)',
      need: 150,
      below: true,
      unit: ' ms',
      value: orNull(median(f['cold-fcgi']?.times ?? [])),
      missing: 'mod_fcgid section not run',
    },
    {
      name: "cold start under mod_fcgid ÷ node-fastcgi's (medians)",
      need: 1.0,
      below: true,
      unit: '×',
      value: orNull(median(f['cold-fcgi']?.times ?? []) / median(f['cold-nfc']?.times ?? [])),
      missing: 'mod_fcgid section not run',
    },
    {
      name: "CPU to the first answer, bundled hello ÷ node-fastcgi's (memory section, fd 0)",
      need: 1.0,
      below: true,
      unit: '×',
      value: orNull(mem['fcgi-hello']?.fd0?.cpu / mem['nfc-hello']?.fd0?.cpu),
      missing: 'memory section not run',
    },
    {
      name: 'RSS of the bundled hello (fcgi bundle) after its first request',
      need: 45,
      below: true,
      unit: ' MB',
      value: orNull(rssMB('fcgi-hello')),
      missing: 'memory section not run',
    },
    {
      name: '(for comparison) the same, bundled with --no-source-maps',
      need: 0,
      unit: ' MB',
      value: orNull(rssMB('fcgi-hello-nosm')),
      info: true,
      missing: 'memory section not run',
    },
    {
      name: "(for comparison) node-fastcgi's hello, bundled by esbuild alone",
      need: 0,
      unit: ' MB',
      value: orNull(rssMB('nfc-hello')),
      info: true,
      missing: 'memory section not run',
    },
    {
      name: "download ÷ nginx's own static file, streamed by the app",
      need: 0.7,
      unit: '×',
      value: orNull(bmed('down-fcgi') / bmed('down-nginx')),
      missing: 'big bodies not run',
    },
    {
      name: "download ÷ nginx's own static file, res.sendFile with X-Accel-Redirect",
      need: 0.7,
      unit: '×',
      value: orNull(bmed('down-fcgi-accel') / bmed('down-nginx')),
      missing: 'big bodies not run',
    },
    {
      name: 'peak RSS growth, download and upload',
      need: 64,
      below: true,
      unit: ' MB',
      value: orNull(rssMax('down-fcgi', 'up-fcgi')),
      missing: 'big bodies not run',
    },
    {
      name: 'parser on 64 KiB STDIN records (content as views)',
      need: 1000,
      unit: ' MB/s',
      value: orNull(m['parse-large']?.ours.mbps),
      missing: 'micro not run',
    },
    {
      name: 'parser on 64 KiB STDIN records, content copied',
      need: 1000,
      unit: ' MB/s',
      value: orNull(m['parse-large-copy']?.ours.mbps),
      missing: 'micro not run',
    },
    {
      name: 'parser ÷ fastcgi-stream on small (100 B) records',
      need: 10,
      unit: '×',
      value: orNull(m['parse-small'] && m['parse-small'].ours.perSec / m['parse-small'].theirs.perSec),
      missing: 'micro not run',
    },
  ];
}

function targetTable(res) {
  const lines = ['| target | required | measured | status | by app CPU per request |', '|---|---:|---:|---|---:|'];
  for (const t of targets(res)) {
    if (t.info && t.value === null) continue;
    const fmt = (x) => `${num(x, t.unit === '×' ? 2 : 0)}${t.unit}`;
    const req = `${t.below ? '<' : '≥'} ${fmt(t.need)}`;
    if (t.value === null) {
      lines.push(`| ${t.name} | ${req} | — | not measurable yet: ${t.missing} | |`);
      continue;
    }
    if (t.info) {
      lines.push(
        `| ${t.name} | | ${fmt(t.value)} | for comparison | ${Number.isFinite(t.cpu) ? `${num(t.cpu, 2)}×` : ''} |`,
      );
      continue;
    }
    const met = t.below ? t.value < t.need : t.value >= t.need;
    const by = t.below ? (100 * (t.value - t.need)) / t.need : (100 * (t.need - t.value)) / t.need;
    const byCpu = Number.isFinite(t.cpu) ? `${num(t.cpu, 2)}×` : '';
    lines.push(`| ${t.name} | ${req} | ${fmt(t.value)} | ${met ? '**met**' : `missed by ${num(by)} %`} | ${byCpu} |`);
  }
  return lines.join('\n');
}

/** The whole report as markdown: what ran, then a table per section and the targets. */
export function report(res) {
  const out = [`Run ${res.meta.date} — \`${res.meta.command}\``, '', res.meta.machine, ''];
  if (res.http)
    out.push(
      `### Through nginx: hello world, wrk -t1 -c50, median of ${res.meta.runs} × ${res.meta.seconds} s`,
      '',
      httpTable(res.http),
      '',
    );
  const spread = res.http ? sharesTable(res.http) : '';
  if (spread) out.push('### How the work spread over the processes of a row', '', spread, '');
  const before = res.http ? baselineTable(res.http) : '';
  if (before) out.push(`### Before and after (BENCH_BASELINE), same run, rounds interleaved`, '', before, '');
  if (res.bodies) out.push('### Big bodies through nginx (curl)', '', bodiesTable(res.bodies), '');
  if (res.fcgid) out.push('### Apache mod_fcgid', '', fcgidTable(res.fcgid), '');
  if (res.memory) out.push('### Memory of one process (bench/memory.mjs)', '', memoryTable(res.memory), '');
  if (res.micro) out.push('### Parser and encoder, in process (64 KiB chunks)', '', microTable(res.micro), '');
  if (res.profile) {
    out.push(
      `### Profile: @fcgi hello, keep-conn on (${num(res.profile.rps)} req/s while profiled; app busy ${res.profile.busyPct} % of the time)`,
      '',
    );
    out.push(
      '| self time | function |',
      '|---:|---|',
      ...res.profile.functions.slice(0, 15).map((f) => `| ${f.pct} % | \`${f.name}\` |`),
      '',
    );
    out.push(
      '| self time incl. native/node code it calls | our function |',
      '|---:|---|',
      ...res.profile.attributed.slice(0, 12).map((f) => `| ${f.pct} % | \`${f.name}\` |`),
      '',
    );
  }
  out.push(
    '### Targets',
    '',
    "Ratios of req/s are medians of per-round ratios; the last column compares the CPU time the apps spent per request instead (the peer's ÷ ours: how many times more it needs).",
    '',
    targetTable(res),
    '',
  );
  return out.join('\n');
}

// `node bench/report.mjs results.json` prints the report of a saved run again.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import('node:fs');
  console.log(report(JSON.parse(readFileSync(process.argv[2], 'utf8'))));
}
