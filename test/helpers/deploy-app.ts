// What the deployment tests put on the "host": a temp dir every web server user can search, the
// matrix app bundled into one executable file (scripts/bundle.mjs), and that file started as a
// long-running FastCGI app on a unix socket or TCP port, as the user the web server runs as.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, stopChild, waitForListener } from './app-process.js';

/** The user a web server started as root hands requests to (Debian: www-data), or null when not root. */
export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** Debian's www-data from /etc/passwd when this process is root; null otherwise (servers keep our user). */
export function webUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('www-data:'));
  if (!line) throw new Error('running as root but there is no www-data user to run the web server as');
  const [, , uid, gid] = line.split(':');
  return { name: 'www-data', uid: Number(uid), gid: Number(gid) };
}

/** PATH for the app: this Node's directory first, so `#!/usr/bin/env node` finds the same Node. */
export const APP_PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin']
  .filter((d, i, all) => all.indexOf(d) === i)
  .join(':');

/** The ```apache block under `heading` of docs/deploy/`page`: the deploy tests use what the docs say. */
export function docsHtaccess(page: string, heading: string): string {
  const text = readFileSync(join(ROOT, 'docs/deploy', page), 'utf8');
  const m = new RegExp(`${heading}[\\s\\S]*?\`\`\`apache\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!m) throw new Error(`no apache block under ${heading} in ${page}`);
  return m[1]!;
}

/** The .htaccess of docs/deploy/apache-mod-fcgid.md (what `fcgi bundle --htaccess` writes): every path that is not a file goes to app.fcgi. */
export const FCGID_HTACCESS = docsHtaccess('apache-mod-fcgid.md', '## 4. `.htaccess`');

/** The .htaccess of docs/deploy/apache-mod-cgi.md: CGI for app.cgi, every other path to it, fcgi.env refused. */
export const CGI_HTACCESS = docsHtaccess('apache-mod-cgi.md', '## 4. `.htaccess`');

/** mod_fcgid's server-wide lines a test Apache needs: where it keeps its sockets and table, and the app's PATH and HOME. */
export function fcgidServerLines(ipc: string, home: string): string {
  return [
    `FcgidIPCDir ${ipc}`,
    `FcgidProcessTableFile ${join(ipc, 'shm')}`,
    `FcgidInitialEnv PATH ${APP_PATH}`,
    `FcgidInitialEnv HOME ${home}`,
  ].join('\n');
}

export interface DeployDir {
  /** Mode 755, as is every directory the helpers make in it. */
  readonly path: string;
  /** Makes `rel` (and parents) with mode 755, owned by `owner` when given. */
  mkdir(rel: string, owner?: RunAs | null): string;
  remove(): Promise<void>;
}

/** A fresh temp dir that the web server's user can search (mkdtemp makes 0700). */
export async function createDeployDir(prefix: string): Promise<DeployDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  chmodSync(path, 0o755);
  return {
    path,
    mkdir(rel, owner) {
      const p = join(path, rel);
      mkdirSync(p, { recursive: true, mode: 0o755 });
      chmodSync(p, 0o755);
      if (owner) chownSync(p, owner.uid, owner.gid);
      return p;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** Bundles test/fixtures/matrix-app.ts into `outfile` with scripts/bundle.mjs (mode 755). */
export function bundleMatrixApp(outfile: string): void {
  bundleApp('test/fixtures/matrix-app.ts', outfile);
}

/** Bundles `entry` (relative to the repository) into `outfile` with scripts/bundle.mjs (mode 755). */
export function bundleApp(entry: string, outfile: string): void {
  const r = spawnSync(process.execPath, ['scripts/bundle.mjs', entry, outfile], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`bundle failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
}

/** Copies the bundle to `to` keeping it executable (a second mount of the same app). */
export function installCopy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  copyFileSync(from, to);
  chmodSync(to, 0o755);
}

/**
 * Fails with a clear message when `user` cannot run this Node (a Node under /root, say): every
 * front below runs the app as that user, and would only log "Permission denied" otherwise.
 */
export function checkNodeRunnableBy(user: RunAs | null): void {
  if (!user) return;
  const r = spawnSync(process.execPath, ['-e', '0'], { uid: user.uid, gid: user.gid, timeout: 10_000 });
  if (r.status !== 0) {
    throw new Error(
      `${user.name} cannot run ${process.execPath} (${r.error?.message ?? r.status}): ` +
        'every directory above it must be searchable by that user',
    );
  }
}

export interface RunningApp {
  readonly child: ChildProcess;
  /** What the app wrote on its own stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts the bundled `file` itself (its shebang finds node on PATH) with FCGI_LISTEN=`listen`
 * (a socket path or 127.0.0.1:port), as `user` when given; resolves once it accepts connections.
 */
export async function startBundledApp(
  file: string,
  listen: string,
  user: RunAs | null,
  home: string,
): Promise<RunningApp> {
  const child = spawn(file, [], {
    cwd: dirname(file),
    env: { PATH: APP_PATH, HOME: home, FCGI_LISTEN: listen },
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (err.length < 1_000_000) err += s;
  });
  let spawnError: Error | null = null;
  child.once('error', (e) => {
    spawnError = e;
  });
  const app: RunningApp = { child, stderr: () => err, stop: () => stopChild(child) };
  const port = /^127\.0\.0\.1:(\d+)$/.exec(listen);
  try {
    await waitForListener(port ? Number(port[1]) : listen, 15_000, () => {
      if (spawnError) return `${file} did not start: ${(spawnError as Error).message}`;
      if (child.exitCode !== null || child.signalCode !== null) return `${file} exited before listening: ${err}`;
      return null;
    });
  } catch (e) {
    await app.stop();
    throw e;
  }
  return app;
}
