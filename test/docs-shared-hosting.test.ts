// Runs docs/deploy/shared-hosting.md: every ```sh block, in page order, as the shared host's
// customer (fcgialice) in a fresh folder standing for "your machine", against the host of
// test/helpers/shared-host.ts and an sshd of the test's own; each ```ts block whose first line is
// `// <path>` is written to that path first; a ```text block right after an ```sh block is that
// block's expected output. A block marked `<!-- fixes: <mistake>... -->` is run once per mistake,
// after uploadWithMistake() uploaded the page's Express app broken that way to a folder of its own,
// public_html/fix-<mistake>, which then stands for the block's `public_html/sub` (one folder per
// mistake: mod_fcgid knows a script by path and inode, and would reuse an earlier upload's process
// when the file system hands the new file a freed inode number). The app must fail before the
// block and answer after. The page cannot drift from what works.
//
// Substitutions, in the commands and the expected output alike (and nothing else):
//   - `alice` -> the customer's user name (fcgialice);
//   - `https://example.com` -> http://127.0.0.1:<Apache's port>;
//   - `npm install @fcgi/core` -> npm install <this repository's packages/core, packed>;
//   - ssh/scp/sftp are wrappers first on PATH that add `-F <config>`: the config maps example.com to
//     the test's sshd and its key.
// Output is compared after two normalizations: the block's working directory is dropped from
// absolute paths, and byte counts read "N bytes".
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI, ROOT } from './helpers/app-process.js';
import { fetchRaw } from './helpers/nginx.js';
import { ALLOW_OVERRIDE, sharedHostSkip, startSharedHost, type SharedHost } from './helpers/shared-host.js';
import { UPLOAD_MISTAKES, uploadWithMistake, type UploadMistake } from './helpers/upload-mistakes.js';
import { SSHD, startSshd, type Sshd } from './helpers/sshd.js';

const PAGE = 'docs/deploy/shared-hosting.md';
const skip =
  sharedHostSkip() ||
  (!SSHD && !IN_CI ? 'openssh-server is not installed (apt-get install openssh-server); skipped outside CI' : false);

interface Block {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The mistakes a `<!-- fixes: ... -->` block fixes, or null. */
  fixes: UploadMistake[] | null;
  /** For an sh block: the ```text block right after it. */
  output: string | null;
}

/** The fenced blocks of a markdown page, in order. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let lastEnd = -1; // the line index of the last closing fence
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    let prev = start - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const marker = prev >= 0 ? /^<!-- fixes: ([\w -]+) -->$/.exec(lines[prev]!) : null;
    const fixes = marker ? (marker[1]!.trim().split(/\s+/) as UploadMistake[]) : null;
    for (const f of fixes ?? []) assert.ok(UPLOAD_MISTAKES.includes(f), `${PAGE}:${prev + 1}: unknown mistake ${f}`);
    const block: Block = { lang: open[1]!, text: `${body.join('\n')}\n`, line: start + 1, fixes, output: null };
    const last = blocks.at(-1);
    const adjacent = lastEnd >= 0 && lines.slice(lastEnd + 1, start).every((l) => l.trim() === '');
    if (block.lang === 'text' && last?.lang === 'sh' && adjacent) last.output = block.text;
    else blocks.push(block);
    lastEnd = i;
  }
  return blocks;
}

describe(`${PAGE}: every command, run on the shared host`, { skip, timeout: 400_000 }, () => {
  let host: SharedHost | undefined;
  let sshd: Sshd | undefined;
  let laptop = '';
  let cwd = '';
  let tarball = '';
  let npmCache = '';
  const page = readFileSync(join(ROOT, PAGE), 'utf8');
  const blocks = fencedBlocks(page);

  const subst = (text: string): string =>
    text
      .replaceAll('https://example.com', `http://127.0.0.1:${host!.port}`)
      .replace(/\balice\b/g, host!.alice.customer.name);

  before(
    async () => {
      host = await startSharedHost('fcgi-docs-shared-host-');
      const me = host.alice.customer;
      sshd = await startSshd(host.deploy, [me.name], me);
      laptop = host.deploy.mkdir('laptop', me);
      cwd = laptop;
      // The package as npm would bring it: `npm pack` of the built packages/core.
      const packs = host.deploy.mkdir('packs');
      const r = spawnSync('npm', ['pack', '--silent', '--pack-destination', packs], {
        cwd: join(ROOT, 'packages/core'),
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      tarball = join(packs, r.stdout.trim().split('\n').at(-1)!);
      // npm's cache outlives the run (in the repository's node_modules), so a second run needs no
      // network; unless the customer cannot reach it there (a clone under /root): then a fresh one.
      npmCache = join(ROOT, 'node_modules/.cache/docs-shared-hosting-npm');
      mkdirSync(npmCache, { recursive: true });
      spawnSync('chown', ['-R', `${me.uid}:${me.gid}`, npmCache], { timeout: 30_000 });
      const reachable = spawnSync('test', ['-w', npmCache], { uid: me.uid, gid: me.gid, timeout: 10_000 });
      if (reachable.status !== 0) npmCache = host.deploy.mkdir('npm-cache', me);
    },
    { timeout: 220_000 },
  );
  after(
    async () => {
      await sshd?.stop();
      await host?.stop();
    },
    { timeout: 30_000 },
  );

  /** Runs one block's commands as the customer from the current folder; keeps the folder it ends in. */
  function runSh(text: string, ms = 150_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const me = host!.alice.customer;
    const cwdFile = join(laptop, '.cwd');
    const script = `${text.replaceAll('npm install @fcgi/core', `npm install ${tarball}`)}\npwd > ${cwdFile}\n`;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-ec', script], {
        cwd,
        uid: me.uid,
        gid: me.gid,
        env: {
          HOME: laptop,
          USER: me.name,
          PATH: [sshd!.binDir, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
          LANG: 'C.UTF-8',
          npm_config_cache: npmCache,
          // Packages already in that cache are taken from it without asking the registry again.
          npm_config_prefer_offline: 'true',
          npm_config_update_notifier: 'false',
          npm_config_fund: 'false',
          npm_config_audit: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        try {
          cwd = readFileSync(cwdFile, 'utf8').trim() || cwd;
        } catch {
          // the block failed before the end
        }
        resolve({ code, stdout, stderr });
      });
    });
  }

  async function runChecked(b: Block): Promise<void> {
    const r = await runSh(subst(b.text));
    assert.equal(r.code, 0, `${PAGE}:${b.line} failed (${r.code}):\n${r.stderr}${r.stdout}`);
    if (b.output !== null) {
      const actual = r.stdout.replaceAll(`${cwd}/`, '').replace(/\d+ bytes/g, 'N bytes');
      assert.equal(actual, subst(b.output), `${PAGE}:${b.line}: output differs`);
    }
  }

  /** What the app in public_html/`rel` answers at its base. */
  async function answers(rel: string): Promise<{ status: number; body: string }> {
    const r = await fetchRaw(host!.port, host!.alice.url(`${rel}/`));
    return { status: r.status, body: r.body.toString() };
  }

  for (const b of blocks) {
    const first = b.text.split('\n')[0]!;
    if (b.lang === 'ts') {
      const path = /^\/\/ (\S+)$/.exec(first)?.[1];
      if (!path) continue;
      it(`${PAGE}:${b.line}: writes ${path}`, () => {
        const me = host!.alice.customer;
        const file = join(cwd, path);
        mkdirSync(dirname(file), { recursive: true });
        chownSync(dirname(file), me.uid, me.gid);
        writeFileSync(file, b.text);
        chownSync(file, me.uid, me.gid);
      });
      continue;
    }
    if (b.lang !== 'sh') continue;
    if (!b.fixes) {
      it(`${PAGE}:${b.line}: ${first}`, { timeout: 160_000 }, () => runChecked(b));
      continue;
    }
    for (const kind of b.fixes) {
      it(`${PAGE}:${b.line}: fixes ${kind}: ${first}`, { timeout: 60_000 }, async () => {
        // The page's Express app from dist/sub/, broken that way in a folder of its own.
        const rel = `fix-${kind}`;
        const app = join(cwd, 'dist/sub/app.fcgi');
        const htaccess = readFileSync(join(cwd, 'dist/sub/.htaccess'), 'utf8');
        uploadWithMistake(host!, host!.alice, kind, app, htaccess, rel);
        const broken = await answers(rel);
        assert.equal(broken.status, 500, `the ${kind} upload should fail first: ${broken.body.slice(0, 200)}`);
        await runChecked({ ...b, text: b.text.replaceAll('public_html/sub', `public_html/${rel}`) });
        const fixed = await answers(rel);
        assert.equal(fixed.status, 200, `after the fix: ${fixed.body.slice(0, 300)}\n${host!.errorLog().slice(-1500)}`);
        assert.equal(fixed.body, `Express, from ${host!.alice.url(rel)}/\n`);
      });
    }
  }

  it(`${PAGE}: the .htaccess shown is what fcgi bundle --htaccess wrote; the host's AllowOverride is the test host's`, () => {
    const apache = blocks.filter((b) => b.lang === 'apache').map((b) => b.text);
    assert.equal(apache[0], readFileSync(join(cwd, 'dist/.htaccess'), 'utf8'));
    assert.ok(
      apache.some((t) => t.includes(`  AllowOverride ${ALLOW_OVERRIDE}\n`)),
      `no apache block with AllowOverride ${ALLOW_OVERRIDE}`,
    );
  });

  it(`${PAGE}: the error of /fail is in Apache's error log with a stack naming src/app.ts, as the page says`, () => {
    const log = host!.errorLog();
    const at = log.indexOf('Error: the database password is hunter2');
    assert.ok(at >= 0, `not in the error log:\n${log.slice(-2000)}`);
    assert.match(log.slice(at, at + 2000), /\n.*\s+at .*src\/app\.ts:\d+:\d+/);
  });

  it(`${PAGE}: each upload mistake is either fixed by a command on the page or explained as the host's`, () => {
    const fixed = new Set(blocks.flatMap((b) => b.fixes ?? []));
    const hostSide = UPLOAD_MISTAKES.filter((m) => m.startsWith('stock-userdir'));
    assert.deepEqual(
      UPLOAD_MISTAKES.filter((m) => !fixed.has(m) && !hostSide.includes(m)),
      [],
      'mistakes the page neither fixes nor explains',
    );
    assert.match(page, /Options not allowed here/);
    assert.match(page, /does not have ExecCGI enabled/);
  });
});
