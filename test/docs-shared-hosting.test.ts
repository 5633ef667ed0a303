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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI, ROOT } from './helpers/app-process.js';
import {
  DocShell,
  fencedBlocks as pageBlocks,
  npmCache as docsNpmCache,
  npmEnv,
  packCore,
  readerPath,
  writeBlockFile,
  type DocBlock,
} from './helpers/doc-runner.js';
import { fetchRaw } from './helpers/nginx.js';
import { ALLOW_OVERRIDE, sharedHostSkip, startSharedHost, type SharedHost } from './helpers/shared-host.js';
import { UPLOAD_MISTAKES, uploadWithMistake, type UploadMistake } from './helpers/upload-mistakes.js';
import { SSHD, startSshd, type Sshd } from './helpers/sshd.js';

const PAGE = 'docs/deploy/shared-hosting.md';
const skip =
  sharedHostSkip() ||
  (!SSHD && !IN_CI ? 'openssh-server is not installed (apt-get install openssh-server); skipped outside CI' : false);

interface Block extends DocBlock {
  /** The mistakes a `<!-- fixes: ... -->` block fixes, or null. */
  fixes: UploadMistake[] | null;
}

/** The fenced blocks of a markdown page, in order, with the mistakes each fixes. */
export function fencedBlocks(markdown: string): Block[] {
  return pageBlocks(markdown).map((b) => {
    const marker = /^fixes: ([\w -]+)$/.exec(b.marker ?? '');
    const fixes = marker ? (marker[1]!.trim().split(/\s+/) as UploadMistake[]) : null;
    for (const f of fixes ?? []) assert.ok(UPLOAD_MISTAKES.includes(f), `${PAGE}:${b.line - 1}: unknown mistake ${f}`);
    return { ...b, fixes };
  });
}

describe(`${PAGE}: every command, run on the shared host`, { skip, timeout: 400_000 }, () => {
  let host: SharedHost | undefined;
  let sshd: Sshd | undefined;
  let laptop = '';
  let cwd = '';
  let tarball = '';
  let shell: DocShell | undefined;
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
    },
    { timeout: 30_000 },
  );

  /** Runs one block's commands as the customer from the current folder (kept for the next block), checking its output. */
  async function runChecked(b: Block): Promise<void> {
    await shell!.check(
      PAGE,
      b,
      subst(b.text).replaceAll('npm install @fcgi/core', `npm install ${tarball}`),
      b.output === null ? null : subst(b.output),
    );
    cwd = shell!.cwd;
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
