// Child processes for end-to-end tests: an example app run with tsx on a unix socket in a fresh temp
// dir, stopping children by pid with a bound, and finding the system binaries the tests drive.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (examples are run from here so tsx and @fcgi/core resolve). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** True in CI, where a missing system binary must fail the tests instead of skipping them. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** The first executable named `bin` on PATH or among `paths`, else null. */
export function findBinary(bin: string, paths: readonly string[] = []): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const p of [...paths, ...dirs.map((d) => join(d, bin))]) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * What a suite needing `bin` does when it is missing: outside CI a skip reason (a string), in CI
 * false (run, and let `before` fail on the missing binary).
 */
export function skipUnless(binary: string | null, pkg: string): string | false {
  if (binary || IN_CI) return false;
  return `${pkg} is not installed (apt-get install ${pkg}); skipped outside CI`;
}

/** Resolves once `child` exited, or after `ms` (false then). */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(t);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Sends `signal` to `pid`, ignoring a process that is gone already. */
export function signalPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // exited meanwhile
  }
}

/** SIGTERM by pid, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalPid(child.pid, 'SIGTERM');
  if (await exited(child, graceMs)) return;
  signalPid(child.pid, 'SIGKILL');
  await exited(child, 2000);
}

/** Resolves once something accepts connections on the unix socket `path` or TCP `port`. */
export async function waitForListener(target: string | number, ms: number, gone?: () => string | null): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const why = gone?.();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const s = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${target} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface AppProcess {
  /** The unix socket the app listens on. */
  readonly socket: string;
  readonly child: ChildProcess;
  /** Everything the app wrote on stderr so far. */
  stderr(): string;
  /** Kills the app by pid (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
}

/** Starts `file` (relative to the repo root) with FCGI_LISTEN on a fresh unix socket; waits until it accepts. */
export async function startApp(
  file: string,
  options: { startMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<AppProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-app-'));
  const socket = join(dir, 'app.sock');
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, ...options.env, FCGI_LISTEN: socket },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    // Bounded: a chatty app must not grow the test's memory without end.
    if (err.length < 1_000_000) err += s;
  });
  let spawnError: Error | null = null;
  child.once('error', (e) => {
    spawnError = e;
  });
  const app: AppProcess = {
    socket,
    child,
    stderr: () => err,
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForListener(socket, options.startMs ?? 20_000, () => {
      if (spawnError) return `${file} did not start: ${(spawnError as Error).message}`;
      if (child.exitCode !== null || child.signalCode !== null) {
        return `${file} exited (${child.exitCode ?? child.signalCode}) before listening; stderr:\n${err}`;
      }
      return null;
    });
  } catch (e) {
    await app.stop();
    throw e;
  }
  return app;
}
