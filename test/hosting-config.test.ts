// Configuration that survives a cleared environment (suEXEC): fcgi.env beside the app and values
// fixed with `fcgi bundle --env`, in a bundle (loaded before the app's modules) and in an app that
// is not bundled (serve() loads it: too late for values read at import); the refusals of fcgi.env.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ROOT, stopChild, waitForListener } from './helpers/app-process.js';
import { APP_PATH, createDeployDir, type DeployDir } from './helpers/deploy-app.js';
import { fcgiGet } from './helpers/raw-client.js';

const CLI = join(ROOT, 'packages/core/dist/cli.js');
const CORE = pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href;
const NAMES = 'FROM_FILE,FROM_BUNDLE,IN_BOTH,FROM_REAL_ENV';

type Answer = Record<'env' | 'atImport' | 'environ', Record<string, string | null>>;

function bundle(entry: string, out: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, 'bundle', entry, out, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

/** Starts `command` on a unix socket with only `env`; answers one GET of /?names=... */
async function ask(command: string[], dir: string, env: Record<string, string> = {}): Promise<Answer> {
  const sock = join(dir, `app-${Math.random().toString(36).slice(2)}.sock`);
  const child = spawn(command[0]!, command.slice(1), {
    cwd: dir,
    env: { PATH: APP_PATH, FCGI_LISTEN: sock, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await waitForListener(sock, 15_000, () => (child.exitCode !== null ? `exited: ${err}` : null));
    const r = await fcgiGet(sock, `/?names=${NAMES}`);
    return JSON.parse(r.body.toString()) as Answer;
  } finally {
    await stopChild(child);
  }
}

/** Runs `command` to its end (a refused start); its status and stderr. */
/** Runs the app by hand (no web server: a start-up failure is printed, exit 1) until it exits. */
function runToEnd(command: string[], dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(command[0]!, command.slice(1), {
    cwd: dir,
    env: { PATH: APP_PATH },
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: r.status, stderr: r.stderr };
}

function writeEnvFile(dir: string, text: string, mode = 0o600): string {
  const file = join(dir, 'fcgi.env');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

describe('fcgi.env and fcgi bundle --env', { timeout: 120_000 }, () => {
  let deploy: DeployDir | undefined;
  let bundled = '';
  let plainDir = '';

  before(
    async () => {
      deploy = await createDeployDir('fcgi-config-');
      const dir = deploy.mkdir('bundled');
      bundled = join(dir, 'app.fcgi');
      bundle('test/fixtures/env-app.ts', bundled, '--env', 'FROM_BUNDLE=bundle', '--env', 'IN_BOTH=bundle');
      plainDir = deploy.mkdir('plain');
      // An app that is not bundled: it imports @fcgi/core itself and calls serve().
      writeFileSync(
        join(plainDir, 'app.mjs'),
        `const atImport = { ...process.env };
const { serve } = await import(${JSON.stringify(CORE)});
const names = ${JSON.stringify(NAMES.split(','))};
const pick = (o) => Object.fromEntries(names.map((n) => [n, o[n] ?? null]));
await serve((req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ env: pick(process.env), atImport: pick(atImport), environ: pick(req.environ) }));
});
`,
      );
    },
    { timeout: 90_000 },
  );
  after(async () => {
    await deploy?.remove();
  });

  it('a bundle sets fcgi.env, then its --env values, before its modules run; the environment wins over both', async () => {
    const dir = join(bundled, '..');
    writeEnvFile(dir, 'FROM_FILE=file\nIN_BOTH=file\nFROM_REAL_ENV=file\n');
    const a = await ask([bundled], dir, { FROM_REAL_ENV: 'real' });
    assert.deepEqual(a.atImport, { FROM_FILE: 'file', FROM_BUNDLE: 'bundle', IN_BOTH: 'file', FROM_REAL_ENV: 'real' });
    assert.deepEqual(a.env, a.atImport);
    // Settings are the process's, not the request's params.
    assert.equal(a.environ.FROM_FILE, null);
  });

  it('a bundle without fcgi.env still has its --env values', async () => {
    const dir = deploy!.mkdir('bundled-only');
    const file = join(dir, 'app.fcgi');
    bundle('test/fixtures/env-app.ts', file, '--env', 'FROM_BUNDLE=bundle', '--env', 'IN_BOTH=bundle');
    const a = await ask([file], dir);
    assert.deepEqual(a.env, { FROM_FILE: null, FROM_BUNDLE: 'bundle', IN_BOTH: 'bundle', FROM_REAL_ENV: null });
  });

  it('fcgi bundle refuses an --env that is not NAME=VALUE, with the fix', () => {
    const r = spawnSync(
      process.execPath,
      [CLI, 'bundle', 'test/fixtures/env-app.ts', join(deploy!.path, 'x.fcgi'), '--env', 'NO-EQUALS'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--env "NO-EQUALS" is not NAME=VALUE.*--env NODE_ENV=production/);
  });

  it('an app that is not bundled gets fcgi.env from serve(): too late for what its modules read at import', async () => {
    writeEnvFile(plainDir, 'FROM_FILE=file\nFROM_REAL_ENV=file\n');
    const a = await ask([process.execPath, 'app.mjs'], plainDir, { FROM_REAL_ENV: 'real' });
    assert.equal(a.env.FROM_FILE, 'file');
    assert.equal(a.env.FROM_REAL_ENV, 'real');
    assert.equal(a.atImport.FROM_FILE, null);
  });

  for (const [mode, what] of [
    [0o644, 'readable'],
    [0o602, 'writable'],
    [0o606, 'readable and writable'],
  ] as const) {
    it(`fcgi.env ${what} by others (mode ${mode.toString(8)}) stops the start, saying chmod 600`, () => {
      const dir = deploy!.mkdir(`refused-${mode.toString(8)}`);
      const file = join(dir, 'app.fcgi');
      bundle('test/fixtures/env-app.ts', file);
      const env = writeEnvFile(dir, 'SECRET=x\n', mode);
      const r = runToEnd([file], dir);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`the app did not start: ${env} is ${what} by every user`));
      assert.match(r.stderr, new RegExp(`fix: chmod 600 ${env}`));
    });
  }

  it('serve() refuses a world-readable fcgi.env too (the app does not serve)', () => {
    const dir = deploy!.mkdir('plain-refused');
    writeFileSync(
      join(dir, 'app.mjs'),
      `const { serve } = await import(${JSON.stringify(CORE)});\nawait serve(() => {});\n`,
    );
    writeEnvFile(dir, 'SECRET=x\n', 0o644);
    const r = runToEnd([process.execPath, 'app.mjs'], dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /fcgi\.env is readable by every user .*fix: chmod 600/);
  });

  it('fcgi.env owned by another user than the app is refused', {
    skip: process.getuid?.() === 0 ? false : 'needs root to give the file to another user (nobody)',
  }, () => {
    const dir = deploy!.mkdir('other-owner');
    const file = join(dir, 'app.fcgi');
    bundle('test/fixtures/env-app.ts', file);
    const env = writeEnvFile(dir, 'SECRET=x\n');
    chownSync(env, 65534, 65534);
    const r = runToEnd([file], dir);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /fcgi\.env belongs to (nobody \(65534\)|uid 65534), but the app runs as root \(0\)/);
    assert.match(r.stderr, /fix: upload it again as root/);
  });
});
