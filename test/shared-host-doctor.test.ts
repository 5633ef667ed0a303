// fcgi doctor on the cPanel/DirectAdmin-like shared host (test/helpers/shared-host.ts), run as a
// customer runs it: over SSH, as that customer, with the bundle's own check (`node app.fcgi
// --check`: the host has Node but no npm and no node_modules, so `npx fcgi doctor` is not there).
// For each upload mistake of upload-mistakes.ts: the visitor's status, doctor's finding naming the
// problem and its fix in plain words, then the fix as doctor words it, run over SSH, and the app
// answers. The two stock-userdir mistakes are the host's to fix: doctor says so, and the same
// upload answers on the host as built (ExecCGI allowed from .htaccess).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI } from './helpers/app-process.js';
import { fetchRaw } from './helpers/nginx.js';
import {
  FCGID_GIVE_UP_MS,
  fcgiBundle,
  sharedHostSkip,
  startSharedHost,
  type SharedHost,
} from './helpers/shared-host.js';
import { SSHD, startSshd, type Sshd } from './helpers/sshd.js';
import {
  DIES_AT_START,
  failsAsExpected,
  uploadWithMistake,
  visit,
  type MistakeUpload,
  type UploadMistake,
} from './helpers/upload-mistakes.js';

const skip =
  sharedHostSkip() ||
  (!SSHD && !IN_CI ? 'openssh-server is not installed (apt-get install openssh-server); skipped outside CI' : false);

/** What doctor must say for each mistake, and what the visitor gets meanwhile. */
interface Expected {
  status: number;
  /** The finding: its level and check, its message, its fix line. */
  level: 'PROBLEM' | 'WARNING' | 'ok';
  check: string;
  message: RegExp;
  fix?: RegExp;
}

const EXPECTED: Record<UploadMistake, Expected> = {
  'no-exec-bit': {
    status: 500,
    level: 'PROBLEM',
    check: 'exec bit',
    message: /app\.fcgi is not executable \(mode 644\): .*visitors get a 500 .*"suexec policy violation"/,
    fix: /^chmod 755 app\.fcgi$/,
  },
  'group-writable-file': {
    status: 500,
    level: 'PROBLEM',
    check: 'write bits',
    message: /app\.fcgi is writable by its group \(mode 775\): suEXEC refuses to run it; .*"suexec policy violation"/,
    fix: /^chmod 755 app\.fcgi$/,
  },
  'group-writable-dir': {
    status: 500,
    level: 'PROBLEM',
    check: 'directory write bits',
    message:
      /\/home\/fcgialice\/public_html\/mistake-group-writable-dir is writable by its group \(mode 775\): suEXEC refuses .*"suexec policy violation"/,
    fix: /^chmod 755 \/home\/fcgialice\/public_html\/mistake-group-writable-dir$/,
  },
  'crlf-line-ends': {
    status: 500,
    level: 'PROBLEM',
    check: 'line ends',
    message: /Windows line ends \(CR LF\): .*"node\\r".*"No such file or directory"/,
    fix: /^run: sed -i 's\/\\r\$\/\/' app\.fcgi {3}\(and upload it in binary mode next time\)$/,
  },
  'node-not-on-host': {
    status: 500,
    level: 'PROBLEM',
    check: 'interpreter',
    message:
      /the first line runs \/Users\/me\/\.nvm\/versions\/node\/v20\.19\.0\/bin\/node, which does not exist or cannot be run: .*visitors get a 500, .*"suexec policy violation"/,
    fix: /^run: sed -i '1s\|\.\*\|#!\/\S+\/node\|' app\.fcgi {3}\(or bundle it again: fcgi bundle src\/app\.ts app\.fcgi --node \/\S+\/node\)$/,
  },
  'env-file-readable': {
    status: 500,
    level: 'PROBLEM',
    check: 'fcgi.env',
    message:
      /\/home\/fcgialice\/public_html\/mistake-env-file-readable\/fcgi\.env is readable by every user of this machine \(mode 644\), .*the app refuses it and does not start \(every request gets a 500/,
    fix: /^chmod 600 \/home\/fcgialice\/public_html\/mistake-env-file-readable\/fcgi\.env && touch \/home\/fcgialice\/public_html\/mistake-env-file-readable\/restart\.txt$/,
  },
  'stock-userdir-options': {
    status: 500,
    level: 'ok',
    check: '.htaccess ExecCGI',
    message:
      /Options \+ExecCGI \(where the host does not allow it, .*500 .*"Options not allowed here": ask the host to allow ExecCGI/,
  },
  'stock-userdir-no-options': {
    status: 403,
    level: 'WARNING',
    check: '.htaccess ExecCGI',
    message: /no Options \+ExecCGI: .*403 \("mod_fcgid: location of script \.\.\. does not have ExecCGI enabled"/,
    fix: /^add the line: Options \+ExecCGI — if Apache then answers 500 and its log says "Options not allowed here", .*ask the host to allow ExecCGI/,
  },
};

/** The lines of `check`'s finding in doctor's output: its message, and its fix (or null). */
function finding(out: string, level: string, check: string): { message: string; fix: string | null } {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${level.padEnd(8)} ${check}:`));
  assert.ok(i >= 0, `no "${level} ${check}" in:\n${out}`);
  const next = lines[i + 1] ?? '';
  return {
    message: lines[i]!.slice(`${level.padEnd(8)} ${check}: `.length),
    fix: next.startsWith('         fix: ') ? next.slice('         fix: '.length) : null,
  };
}

/** The shell command in a fix doctor printed ("run: cmd   (a remark)" or the bare command). */
function fixCommand(fix: string): string {
  return fix.replace(/^run: /, '').replace(/\s{2,}\(.*\)$/, '');
}

describe('fcgi doctor over SSH on the shared host: each upload mistake found, its fix followed', {
  skip,
  // Besides the usual run, each mistake that DIES_AT_START may take mod_fcgid's longest wait.
  timeout: 240_000 + DIES_AT_START.size * FCGID_GIVE_UP_MS,
}, () => {
  let host: SharedHost | undefined;
  let sshd: Sshd | undefined;
  let build = '';
  let htaccess = '';

  before(
    async () => {
      build = mkdtempSync(join(tmpdir(), 'fcgi-shared-host-doctor-'));
      const bundled = fcgiBundle('test/fixtures/shared-host-app.ts', join(build, 'app.fcgi'), '--htaccess');
      const [b, h] = await Promise.allSettled([bundled, startSharedHost('fcgi-shared-host-doctor-')]);
      if (h.status === 'fulfilled') host = h.value;
      if (b.status === 'rejected') throw b.reason;
      if (h.status === 'rejected') throw h.reason;
      htaccess = readFileSync(join(build, '.htaccess'), 'utf8');
      // The stock-userdir mistakes show only when public_html's own .htaccess sets no Options.
      for (const f of ['.htaccess', 'app.fcgi']) rmSync(host!.alice.path(f), { force: true });
      const me = host!.alice.customer;
      sshd = await startSshd(host!.deploy, [me.name], me);
    },
    { timeout: 200_000 },
  );
  after(
    async () => {
      await sshd?.stop();
      await host?.stop();
      if (build) rmSync(build, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  /** Runs `command` over SSH as the customer, in public_html/<the upload's folder>. */
  async function ssh(m: MistakeUpload, command: string) {
    const rel = m.dir.slice(host!.alice.customer.home.length + 1);
    return sshd!.run('ssh', [`${host!.alice.customer.name}@${sshd!.host}`, `cd ${rel} && ${command}`]);
  }

  /** The bundle's own check over SSH: `node app.fcgi --check` in the app's folder. */
  async function check(m: MistakeUpload, status: number) {
    const r = await ssh(m, 'node app.fcgi --check');
    assert.equal(r.code, status, `exit status of node app.fcgi --check:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^fcgi check: ${m.file}\\n`));
    return r;
  }

  const answers = async (port: number, m: MistakeUpload) => {
    const r = await fetchRaw(port, m.url);
    return { status: r.status, body: r.body.toString() };
  };

  for (const [kind, want] of Object.entries(EXPECTED) as [UploadMistake, Expected][]) {
    const hostSide = kind.startsWith('stock-userdir');
    it(`${kind}: ${want.status} for the visitor; doctor: ${want.level} ${want.check}; ${hostSide ? 'the host enables ExecCGI' : 'its fix, run over SSH'}, and the app answers`, {
      timeout: 60_000 + (DIES_AT_START.has(kind) ? FCGID_GIVE_UP_MS : 0),
    }, async () => {
      const m = uploadWithMistake(host!, host!.alice, kind, join(build, 'app.fcgi'), htaccess);
      const broken = await visit(host!, m);
      assert.ok(failsAsExpected(broken, kind, want.status), `${broken.status}: ${broken.body.slice(0, 300)}`);

      const { stdout: out, stderr } = await check(m, want.level === 'PROBLEM' ? 1 : 0);
      const f = finding(out, want.level, want.check);
      assert.match(f.message, want.message);
      if (want.fix) assert.match(f.fix ?? '(no fix line)', want.fix);
      // One finding per mistake: nothing else is a problem, and the app itself loads.
      assert.equal((out.match(/^PROBLEM /gm) ?? []).length, want.level === 'PROBLEM' ? 1 : 0, out);
      if (kind === 'env-file-readable')
        assert.match(stderr, /^fcgi check: the app did not start: .*fcgi\.env is readable/m);
      else assert.match(out, /^fcgi check: the app loaded and called serve\(\)/m);

      if (!hostSide) {
        // Do what doctor says, word for word, over SSH in the app's folder.
        const fixed = await ssh(m, fixCommand(f.fix!));
        assert.equal(fixed.code, 0, fixed.stderr);
        assert.match((await check(m, 0)).stdout, /\nno problems found\n/);
        // A process that refused fcgi.env leaves when it sees restart.txt (within about a second).
        let ok = await answers(m.port, m);
        for (const end = Date.now() + 10_000; ok.status !== 200 && Date.now() < end; ) {
          await new Promise((r) => setTimeout(r, 250));
          ok = await answers(m.port, m);
        }
        assert.equal(ok.status, 200, `${ok.body.slice(0, 300)}\n${host!.errorLog().slice(-1500)}`);
        assert.equal((JSON.parse(ok.body) as { base: string }).base, m.url.replace(/\/$/, ''));
        return;
      }
      if (kind === 'stock-userdir-no-options') {
        // The fix's first half: the Options line, which this host's AllowOverride refuses (500).
        const added = await ssh(m, "echo 'Options +ExecCGI' >> .htaccess");
        assert.equal(added.code, 0, added.stderr);
        const log = host!.errorLog().length;
        assert.equal((await answers(m.port, m)).status, 500);
        assert.match(host!.errorLog().slice(log), /\.htaccess: Options not allowed here/);
        assert.match(
          finding((await check(m, 0)).stdout, 'ok', '.htaccess ExecCGI').message,
          EXPECTED['stock-userdir-options'].message,
        );
      }
      // Its second half, the host's: where ExecCGI may be set from .htaccess, the same upload answers.
      const ok = await answers(host!.port, m);
      assert.equal(ok.status, 200, `${ok.body.slice(0, 300)}\n${host!.errorLog().slice(-1500)}`);
    });
  }
});
