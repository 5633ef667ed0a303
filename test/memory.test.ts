// The memory figures of docs/deploy/memory.md, held: the bundled hello (`fcgi bundle`), started as
// mod_fcgid starts it (a listening socket on fd 0), answers under the documented address-space
// limit and stays at or under the documented RSS; --node-options reaches Node through the first
// line; Apache's RLimitMEM bounds mod_cgi's scripts and not mod_fcgid's processes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, skipUnless } from './helpers/app-process.js';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { APP_PATH, createDeployDir, type DeployDir } from './helpers/deploy-app.js';
import { fetchRaw } from './helpers/nginx.js';
import { fcgiGet } from './helpers/raw-client.js';

/**
 * What docs/deploy/memory.md says, in MiB, read from the page so it cannot drift from what is held:
 * the RSS after the first request of the hello through serve() (its table's first row, with and
 * without source maps; the page's MB are MiB, as /proc and bench/memory.mjs count), the address
 * space it tells hosts to give, and the common RLimitMEM it says is too small.
 */
const DOC = docFigures(readFileSync(join(ROOT, 'docs/deploy/memory.md'), 'utf8'));

function docFigures(page: string) {
  const row = page.split('\n').find((l) => l.startsWith('| hello through `serve()`'));
  assert.ok(row, 'memory.md: no table row for the hello through serve()');
  const cells = row.split('|').map((c) => c.trim());
  const mb = (cell: string | undefined) => {
    const m = /^([\d.]+) MB$/.exec(cell ?? '');
    assert.ok(m, `memory.md: "${cell}" in the hello's row is not a figure in MB`);
    return Number(m[1]);
  };
  const give = /\*\*give a Node process at least (\d+) MiB of address space\*\*/.exec(page);
  const small = /A host's common `RLimitMEM (\d+)M` is below the floor/.exec(page);
  assert.ok(give && small, 'memory.md: the address space to give, and the RLimitMEM that is too small');
  return {
    /** The hello bundled with source maps (fcgi bundle's default). */
    rss: mb(cells[2]),
    /** The hello bundled with --no-source-maps. */
    rssNoMaps: mb(cells[5]),
    /** The smallest `ulimit -v` / RLimitMEM the docs give as enough for the hello. */
    addressSpace: Number(give[1]),
    /** A limit the docs say is too small (hosts' common RLimitMEM 512M). */
    tooSmall: Number(small[1]),
  };
}
/** Room for another build of Node 20 or another kernel: the figures are from one machine. */
const MARGIN_MIB = 4;
const MiB = 2 ** 20;

const SPAWN_FCGI = '/usr/bin/spawn-fcgi';
const PRLIMIT = '/usr/bin/prlimit';
const skipLocal = skipUnless(existsSync(SPAWN_FCGI) && existsSync(PRLIMIT) ? SPAWN_FCGI : null, 'spawn-fcgi');

function bundleHello(outfile: string, flags: string[] = []): void {
  const r = spawnSync(process.execPath, ['scripts/bundle.mjs', ...flags, 'test/fixtures/memory-app.ts', outfile], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`bundle failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
}

interface Started {
  status: number;
  body: string;
  rss: number;
  threads: number;
  stderr: string;
}

/**
 * Starts `file` by its first line as mod_fcgid does (spawn-fcgi -n: a listening socket on fd 0,
 * then exec, so the pid is the app's), under `prlimit --as` when given; one GET /, then the
 * process's RSS and threads from /proc; the process is killed before this resolves.
 */
async function startAndGet(dir: string, file: string, addressSpace?: number): Promise<Started> {
  const sock = join(dir, `app-${Date.now()}-${Math.random().toString(36).slice(2)}.sock`);
  const limit = addressSpace ? [PRLIMIT, `--as=${addressSpace}`, '--'] : [];
  const child = spawn(SPAWN_FCGI, ['-n', '-s', sock, '--', ...limit, file], {
    env: { PATH: APP_PATH, LANG: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 50_000) stderr += s;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 10_000;
    while (!existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    let r = await fcgiGet(sock, '/', 10_000).catch((e: Error) => ({ error: e }));
    // spawn-fcgi makes the file at bind() and listens a moment later: refused until then.
    while ('error' in r && (r.error as NodeJS.ErrnoException).code === 'ECONNREFUSED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      r = await fcgiGet(sock, '/', 10_000).catch((e: Error) => ({ error: e }));
    }
    if ('error' in r) return { status: 0, body: '', rss: 0, threads: 0, stderr: `${r.error.message}\n${stderr}` };
    const status = readFileSync(`/proc/${child.pid}/status`, 'latin1');
    return {
      status: r.status,
      body: r.body.toString(),
      rss: Number(/^VmRSS:\s+(\d+)/m.exec(status)![1]) * 1024,
      threads: Number(/^Threads:\s+(\d+)/m.exec(status)![1]),
      stderr,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('one bundled process: RSS, address space, threads (docs/deploy/memory.md)', {
  skip: skipLocal,
  timeout: 180_000,
}, () => {
  let deploy: DeployDir | undefined;
  const files = { maps: '', noMaps: '', pool1: '' };

  before(
    async () => {
      deploy = await createDeployDir('fcgi-memory-');
      files.maps = join(deploy.path, 'hello.fcgi');
      files.noMaps = join(deploy.path, 'hello-nosm.fcgi');
      files.pool1 = join(deploy.path, 'hello-pool1.fcgi');
      bundleHello(files.maps);
      bundleHello(files.noMaps, ['--no-source-maps']);
      bundleHello(files.pool1, ['--no-source-maps', '--node-options=--v8-pool-size=1']);
    },
    { timeout: 120_000 },
  );
  after(() => deploy?.remove());

  it('RSS after the first request is at or under the documented figures (median of 3 starts)', {
    timeout: 60_000,
  }, async (t) => {
    for (const [file, doc] of [
      [files.maps, DOC.rss],
      [files.noMaps, DOC.rssNoMaps],
    ] as const) {
      const rss: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await startAndGet(deploy!.path, file);
        assert.equal(r.status, 200, r.stderr);
        assert.equal(r.body, 'Hello World\n');
        rss.push(r.rss);
      }
      t.diagnostic(`${file}: RSS ${(median(rss) / MiB).toFixed(1)} MiB (documented ${doc} MiB)`);
      assert.ok(median(rss) <= (doc + MARGIN_MIB) * MiB, `RSS ${median(rss) / MiB} MiB > ${doc} + ${MARGIN_MIB}`);
    }
  });

  it(`answers under an address-space limit of ${DOC.addressSpace} MiB; ${DOC.tooSmall} MiB is too little (CodeRange)`, {
    timeout: 60_000,
  }, async () => {
    for (const file of [files.maps, files.noMaps]) {
      const ok = await startAndGet(deploy!.path, file, DOC.addressSpace * MiB);
      assert.equal(ok.status, 200, `under ${DOC.addressSpace} MiB: ${ok.stderr}`);
      assert.equal(ok.body, 'Hello World\n');
    }
    const small = await startAndGet(deploy!.path, files.noMaps, DOC.tooSmall * MiB);
    assert.equal(small.status, 0, `under ${DOC.tooSmall} MiB it answered`);
    assert.match(small.stderr, /Failed to reserve virtual memory for CodeRange/);
  });

  it('--node-options="--v8-pool-size=1" on the first line: the process has 3 threads fewer', {
    timeout: 60_000,
  }, async (t) => {
    assert.equal(readFileSync(files.pool1, 'utf8').split('\n')[0], '#!/usr/bin/env -S node --v8-pool-size=1');
    const plain = await startAndGet(deploy!.path, files.noMaps);
    const pool1 = await startAndGet(deploy!.path, files.pool1);
    assert.equal(pool1.status, 200, pool1.stderr);
    t.diagnostic(`threads: ${plain.threads} by default, ${pool1.threads} with --v8-pool-size=1`);
    assert.ok(pool1.threads <= 4, `${pool1.threads} threads`);
    assert.ok(plain.threads >= pool1.threads + 3, `${plain.threads} vs ${pool1.threads}`);
  });
});

const skipApache = skipUnlessApache(['cgi', 'fcgid'], 'apache2 libapache2-mod-fcgid');

/** An RLimitNPROC no host would pick, to recognise it in the process's limits. */
const NPROC = 4321;

describe('Apache RLimitMEM and RLimitNPROC: mod_cgi scripts get them, mod_fcgid processes do not', {
  skip: skipApache,
  timeout: 120_000,
}, () => {
  const apache = apacheDeploy({
    prefix: 'fcgi-memory-apache-',
    mpm: 'prefork',
    modules: ['cgi', 'fcgid'],
    fcgid: true,
    setup: ({ deploy, www }) => {
      for (const sub of ['cgi-small', 'cgi-doc', 'fcgid-small', 'fcgid-options']) deploy.mkdir(`www/${sub}`);
      bundleHello(join(www, 'cgi-small', 'app.cgi'), ['--no-source-maps']);
      bundleHello(join(www, 'cgi-doc', 'app.cgi'), ['--no-source-maps']);
      bundleHello(join(www, 'fcgid-small', 'app.fcgi'), ['--no-source-maps']);
      bundleHello(join(www, 'fcgid-options', 'app.fcgi'), ['--no-source-maps', '--node-options=--v8-pool-size=1']);
      const limit = (mib: number) => `RLimitMEM ${mib * MiB} ${mib * MiB}\nRLimitNPROC ${NPROC} ${NPROC}`;
      writeFileSync(join(www, 'cgi-small', '.htaccess'), `AddHandler cgi-script .cgi\n${limit(DOC.tooSmall)}\n`);
      writeFileSync(join(www, 'cgi-doc', '.htaccess'), `AddHandler cgi-script .cgi\n${limit(DOC.addressSpace)}\n`);
      writeFileSync(join(www, 'fcgid-small', '.htaccess'), `AddHandler fcgid-script .fcgi\n${limit(DOC.tooSmall)}\n`);
      writeFileSync(join(www, 'fcgid-options', '.htaccess'), 'AddHandler fcgid-script .fcgi\n');
      return 'StartServers 2\n';
    },
    startTimeout: 90_000,
  });

  const figures = async (path: string) => {
    const r = await fetchRaw(apache.port, path, { timeoutMs: 20_000 });
    assert.equal(r.status, 200, `${path}: ${r.status} ${r.body.toString()}\n${apache.errorLog()}`);
    return JSON.parse(r.body.toString()) as { rssKb: string; threads: string; addressSpace: string; processes: string };
  };

  it(`mod_cgi: RLimitMEM ${DOC.tooSmall}M kills the script at start (CodeRange), ${DOC.addressSpace}M lets it answer`, {
    timeout: 40_000,
  }, async () => {
    const small = await fetchRaw(apache.port, '/cgi-small/app.cgi', { timeoutMs: 20_000 });
    assert.equal(small.status, 500);
    assert.match(apache.errorLog(), /Failed to reserve virtual memory for CodeRange/);
    const doc = await figures('/cgi-doc/app.cgi/proc');
    assert.equal(Number(doc.addressSpace), DOC.addressSpace * MiB);
    assert.equal(doc.processes, String(NPROC));
  });

  it(`mod_fcgid: the same RLimitMEM ${DOC.tooSmall}M and RLimitNPROC do not reach the process`, {
    timeout: 40_000,
  }, async () => {
    const f = await figures('/fcgid-small/app.fcgi/proc');
    assert.equal(f.addressSpace, 'unlimited');
    assert.notEqual(f.processes, String(NPROC), 'RLimitNPROC does not reach it either');
  });

  it('mod_fcgid runs the first line of --node-options (env -S): 4 threads instead of 7', {
    timeout: 40_000,
  }, async () => {
    const plain = await figures('/fcgid-small/app.fcgi/proc');
    const options = await figures('/fcgid-options/app.fcgi/proc');
    assert.ok(Number(options.threads) <= 4, `${options.threads} threads`);
    assert.ok(Number(plain.threads) >= Number(options.threads) + 3, `${plain.threads} vs ${options.threads}`);
  });
});

describe('Apache RLimitMEM under the event MPM: mod_cgid scripts get it too', {
  skip: skipUnlessApache(['cgid'], 'apache2'),
  timeout: 120_000,
}, () => {
  const apache = apacheDeploy({
    prefix: 'fcgi-memory-cgid-',
    mpm: 'event',
    modules: ['cgid'],
    setup: ({ deploy, www }) => {
      for (const sub of ['small', 'doc']) deploy.mkdir(`www/${sub}`);
      bundleHello(join(www, 'small', 'app.cgi'), ['--no-source-maps']);
      bundleHello(join(www, 'doc', 'app.cgi'), ['--no-source-maps']);
      for (const [sub, mib] of [
        ['small', DOC.tooSmall],
        ['doc', DOC.addressSpace],
      ] as const)
        writeFileSync(join(www, sub, '.htaccess'), `AddHandler cgi-script .cgi\nRLimitMEM ${mib * MiB} ${mib * MiB}\n`);
    },
    startTimeout: 90_000,
  });

  it(`RLimitMEM ${DOC.tooSmall}M: 500 (CodeRange); ${DOC.addressSpace}M: it answers with that limit`, {
    timeout: 40_000,
  }, async () => {
    const small = await fetchRaw(apache.port, '/small/app.cgi', { timeoutMs: 20_000 });
    assert.equal(small.status, 500);
    assert.match(apache.errorLog(), /Failed to reserve virtual memory for CodeRange/);
    const doc = await fetchRaw(apache.port, '/doc/app.cgi/proc', { timeoutMs: 20_000 });
    assert.equal(doc.status, 200, `${doc.body.toString()}\n${apache.errorLog()}`);
    assert.equal(
      Number((JSON.parse(doc.body.toString()) as { addressSpace: string }).addressSpace),
      DOC.addressSpace * MiB,
    );
  });
});
