// Runs docs/deploy/shared-hosting.md: every ```sh block, in page order, as the shared host's
// customer (fcgialice) in a fresh folder standing for "your machine", against the host of
// test/helpers/shared-host.ts and an sshd of the test's own; each ```ts block whose first line is
// `// <path>` is written to that path first; a ```text block right after an ```sh block is that
// block's expected output. A block marked `<!-- fixes: <mistake>... -->` is run once per mistake,
// after uploadWithMistake() uploaded the page's Express app broken that way to a folder of its own,
// public_html/fix-<mistake>, which then stands for the block's `public_html/sub` (one folder per
// mistake: mod_fcgid knows a script by path and inode, and would reuse an earlier upload's process
// when the file system hands the new file a freed inode number). The app must fail before the
// block and answer after. A block marked `<!-- diagnoses: <mistake>... -->` runs on that broken
// upload too (made by the first block that names the mistake) and must leave it broken; its exit
// status is 1 when its output names a PROBLEM (what `node app.fcgi --check` does), else 0. The page
// cannot drift from what works.
//
// Substitutions, in the commands and the expected output alike (and nothing else):
//   - `alice` -> the customer's user name (fcgialice);
//   - `https://example.com` -> http://127.0.0.1:<Apache's port>;
//   - `/usr/bin/node` (not inside a longer path) -> the Node the customer's SSH shell finds here;
//   - `npm install @fcgi/core` -> npm install <this repository's packages/core, packed>;
//   - ssh/scp/sftp are wrappers first on PATH that add `-F <config>`: the config maps example.com to
//     the test's sshd and its key.
// The host gets what the page assumes a host may have: a Node at CloudLinux's
// /opt/alt/alt-nodejs20/root/usr/bin/node (a copy of the test's, owned by root; removed afterwards).
// Output is compared after these normalizations: the block's working directory is dropped from
// absolute paths, byte counts read "N bytes", and public_html/fix-<mistake> reads public_html/sub.
// A line `...` in the expected output stands for any number of lines.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI, ROOT } from './helpers/app-process.js';
import {
  DocShell,
  fencedBlocks as pageBlocks,
  normalizeOutput,
  npmCache as docsNpmCache,
  npmEnv,
  packCore,
  readerPath,
  writeBlockFile,
  type DocBlock,
} from './helpers/doc-runner.js';
import { fetchRaw } from './helpers/nginx.js';
import {
  ALLOW_OVERRIDE,
  FCGID_GIVE_UP_MS,
  sharedHostSkip,
  startSharedHost,
  type SharedHost,
} from './helpers/shared-host.js';
import {
  DIES_AT_START,
  failsAsExpected,
  type MistakeUpload,
  UPLOAD_MISTAKES,
  uploadWithMistake,
  type UploadMistake,
  visit,
} from './helpers/upload-mistakes.js';
import { SSHD, startSshd, type Sshd } from './helpers/sshd.js';

const PAGE = 'docs/deploy/shared-hosting.md';
const skip =
  sharedHostSkip() ||
  (!SSHD && !IN_CI ? 'openssh-server is not installed (apt-get install openssh-server); skipped outside CI' : false);

interface Block extends DocBlock {
  /** The mistakes a `<!-- fixes: ... -->` block fixes, or null. */
  fixes: UploadMistake[] | null;
  /** The mistakes a `<!-- diagnoses: ... -->` block is run on, or null. */
  diagnoses: UploadMistake[] | null;
}

/** The fenced blocks of a markdown page, in order, with the mistakes each fixes. */
export function fencedBlocks(markdown: string): Block[] {
  return pageBlocks(markdown).map((b) => {
    const marker = /^(fixes|diagnoses): ([\w -]+)$/.exec(b.marker ?? '');
    const kinds = marker ? (marker[2]!.trim().split(/\s+/) as UploadMistake[]) : null;
    for (const f of kinds ?? []) assert.ok(UPLOAD_MISTAKES.includes(f), `${PAGE}:${b.line - 1}: unknown mistake ${f}`);
    return {
      ...b,
      fixes: marker?.[1] === 'fixes' ? kinds : null,
      diagnoses: marker?.[1] === 'diagnoses' ? kinds : null,
    };
  });
}

/** Asserts `actual` is `expected`, where an expected line `...` stands for any number of lines. */
export function assertOutput(actual: string, expected: string, message: string): void {
  if (!expected.split('\n').includes('...')) {
    assert.equal(actual, expected, message);
    return;
  }
  const literal = (l: string) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = expected.replace(/\n$/, '').split('\n');
  const pattern = parts.map((l) => (l === '...' ? '(?:[^\\n]*\\n)*?' : `${literal(l)}\\n`)).join('');
  assert.match(actual, new RegExp(`^${pattern}$`), message);
}

/** CloudLinux's Node 20 path, which the page's "Node is not on the PATH" uses. */
const ALT_NODE = '/opt/alt/alt-nodejs20/root/usr/bin/node';

/** Puts a copy of this Node at ALT_NODE (root's, 755); returns the top directory it made, or ''. */
function installAltNode(): string {
  if (existsSync(ALT_NODE)) return '';
  let top = '';
  for (let d = dirname(ALT_NODE); !existsSync(d); d = dirname(d)) top = d;
  mkdirSync(dirname(ALT_NODE), { recursive: true, mode: 0o755 });
  copyFileSync(process.execPath, ALT_NODE);
  chmodSync(ALT_NODE, 0o755);
  return top;
}

const page = readFileSync(join(ROOT, PAGE), 'utf8');
const blocks = fencedBlocks(page);
/** mod_fcgid's longest wait for each visit of a broken upload that DIES_AT_START (assertBroken). */
const brokenWaitMs = (kind: UploadMistake, visits: number) => (DIES_AT_START.has(kind) ? visits * FCGID_GIVE_UP_MS : 0);
/** Each diagnoses block visits its upload twice, each fixes block once. */
const allBrokenWaitsMs = blocks.reduce(
  (ms, b) =>
    ms +
    (b.diagnoses ?? []).reduce((n, k) => n + brokenWaitMs(k, 2), 0) +
    (b.fixes ?? []).reduce((n, k) => n + brokenWaitMs(k, 1), 0),
  0,
);

describe(`${PAGE}: every command, run on the shared host`, { skip, timeout: 400_000 + allBrokenWaitsMs }, () => {
  let host: SharedHost | undefined;
  let sshd: Sshd | undefined;
  let laptop = '';
  let cwd = '';
  let tarball = '';
  /** The directory installAltNode() made, removed afterwards. */
  let altMade = '';
  let shell: DocShell | undefined;

  /** The Node the customer's SSH shell finds (`command -v node`), for the page's `/usr/bin/node`. */
  let hostNode = '';

  const subst = (text: string): string =>
    text
      .replaceAll('https://example.com', `http://127.0.0.1:${host!.port}`)
      .replace(/(?<![\w./-])\/usr\/bin\/node\b/g, hostNode)
      .replace(/\balice\b/g, host!.alice.customer.name);

  before(
    async () => {
      host = await startSharedHost('fcgi-docs-shared-host-');
      altMade = installAltNode();
      const me = host.alice.customer;
      sshd = await startSshd(host.deploy, [me.name], me);
      const node = await sshd.run('ssh', [`${me.name}@${sshd.host}`, 'command -v node']);
      assert.equal(node.code, 0, `no node on the customer's PATH over SSH: ${node.stderr}`);
      hostNode = node.stdout.trim();
      laptop = host.deploy.mkdir('laptop', me);
      cwd = laptop;
      // The package as npm would bring it: `npm pack` of the built packages/core.
      tarball = packCore(host.deploy.mkdir('packs'));
      // npm's cache outlives the run (in the repository's node_modules), so a second run needs no
      // network; unless the customer cannot reach it there (a clone under /root): then a fresh one.
      const npmCache = docsNpmCache('docs-shared-hosting-npm', me, () => host!.deploy.mkdir('npm-cache', me));
      shell = new DocShell({
        cwd,
        user: me,
        cwdFile: join(laptop, '.cwd'),
        env: { HOME: laptop, USER: me.name, PATH: readerPath(sshd.binDir), LANG: 'C.UTF-8', ...npmEnv(npmCache) },
      });
    },
    { timeout: 220_000 },
  );
  after(
    async () => {
      await sshd?.stop();
      await host?.stop();
      if (altMade) rmSync(altMade, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  /** Runs block `b`; `code` is the exit status it must end with, `rel` the mistake's folder standing for public_html/sub. */
  async function runChecked(b: Block, rel?: string, code = 0): Promise<void> {
    const text = rel ? b.text.replaceAll('public_html/sub', `public_html/${rel}`) : b.text;
    const r = await shell!.run(subst(text).replaceAll('npm install @fcgi/core', `npm install ${tarball}`));
    cwd = shell!.cwd;
    assert.equal(r.code, code, `${PAGE}:${b.line} exit status ${r.code}, not ${code}:\n${r.stderr}${r.stdout}`);
    if (b.output !== null) {
      let actual = normalizeOutput(r.stdout, cwd);
      if (rel) actual = actual.replaceAll(`public_html/${rel}`, 'public_html/sub');
      assertOutput(actual, subst(b.output), `${PAGE}:${b.line}: output differs`);
    }
  }

  /** The page's Express app from dist/sub/, uploaded broken by `kind` to a folder of its own (once). */
  const broken = new Map<UploadMistake, MistakeUpload>();
  function brokenUpload(kind: UploadMistake): MistakeUpload {
    let m = broken.get(kind);
    if (!m) {
      const htaccess = readFileSync(join(cwd, 'dist/sub/.htaccess'), 'utf8');
      m = uploadWithMistake(host!, host!.alice, kind, join(cwd, 'dist/sub/app.fcgi'), htaccess, `fix-${kind}`);
      broken.set(kind, m);
    }
    return m;
  }

  /**
   * Asserts the upload for `kind` fails as it should: 500, or mod_fcgid's 503 once it gives up on
   * an app that DIES_AT_START (the stock-userdir ones: not 200, on their port).
   */
  async function assertBroken(kind: UploadMistake): Promise<void> {
    const m = brokenUpload(kind);
    const v = await visit(host!, m);
    const body = v.body.slice(0, 200);
    if (kind.startsWith('stock-userdir')) assert.notEqual(v.status, 200, `the ${kind} upload should fail: ${body}`);
    else
      assert.ok(failsAsExpected(v, kind, 500), `the ${kind} upload should fail with a 500, not ${v.status}: ${body}`);
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
      it(`${PAGE}:${b.line}: writes ${path}`, () => writeBlockFile(cwd, path, b.text, host!.alice.customer));
      continue;
    }
    if (b.lang !== 'sh') continue;
    for (const kind of b.diagnoses ?? []) {
      it(`${PAGE}:${b.line}: diagnoses ${kind}: ${first}`, { timeout: 60_000 + brokenWaitMs(kind, 2) }, async () => {
        await assertBroken(kind);
        const problem = /^PROBLEM /m.test(b.output ?? '');
        await runChecked(b, `fix-${kind}`, problem ? 1 : 0);
        await assertBroken(kind);
      });
    }
    if (b.diagnoses) continue;
    if (!b.fixes) {
      it(`${PAGE}:${b.line}: ${first}`, { timeout: 160_000 }, () => runChecked(b));
      continue;
    }
    for (const kind of b.fixes) {
      it(`${PAGE}:${b.line}: fixes ${kind}: ${first}`, { timeout: 60_000 + brokenWaitMs(kind, 1) }, async () => {
        const rel = `fix-${kind}`;
        await assertBroken(kind);
        await runChecked(b, rel);
        // A process that failed to start leaves once it sees restart.txt (it looks once a second).
        let fixed = await answers(rel);
        for (const end = Date.now() + 10_000; fixed.status !== 200 && Date.now() < end; ) {
          await new Promise((r) => setTimeout(r, 250));
          fixed = await answers(rel);
        }
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
