// Go's net/http/fcgi as a real FastCGI application for the client tests: test/fixtures/fcgi-echo.go,
// compiled at test time with Debian's golang-go, standard library only, no network.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const SOURCE = fileURLToPath(new URL('../fixtures/fcgi-echo.go', import.meta.url));
/** Kept across runs so a rebuild takes a second, not a cold compile of net/http. */
const CACHE = join(tmpdir(), 'fcgi-go-build-cache');

export function findGo(): string | null {
  return ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go'].find((p) => existsSync(p)) ?? null;
}

/** Why the Go tests cannot run here, for `skip`; false when they can. In CI they must run: no skip. */
export function goSkip(): string | false {
  if (findGo() || process.env.CI === 'true') return false;
  return 'go is not installed (apt-get install golang-go)';
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const timer = setTimeout(() => {
      if (proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} took over ${ms} ms: ${out}`));
    }, ms);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

export interface GoFcgi {
  socket: string;
  /** What the program printed. */
  output(): string;
  /** Kills the program by its pid and removes the temp dir. */
  stop(): Promise<void>;
}

/** Compiles the fixture (bounded by `buildMs`) and runs it on a unix socket in a fresh temp dir. */
export async function startGoFcgi(buildMs = 120_000): Promise<GoFcgi> {
  const go = findGo();
  if (!go) throw new Error('go is not installed: apt-get install -y golang-go');
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-go-'));
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const stop = async () => {
    if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid, 'SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  let out = '';
  try {
    await mkdir(CACHE, { recursive: true });
    const bin = join(dir, 'fcgi-echo');
    // GOPATH mode with no imports outside the standard library: nothing to download.
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      GO111MODULE: 'off',
      GOFLAGS: '',
      GOPROXY: 'off',
      GOPATH: join(CACHE, 'gopath'),
      GOCACHE: join(CACHE, 'gocache'),
      GOENV: 'off',
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
    };
    await run(go, ['build', '-o', bin, SOURCE], env, buildMs);
    const socket = join(dir, 'go.sock');
    const child = (proc = spawn(bin, [socket], { stdio: ['ignore', 'pipe', 'pipe'] }));
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(socket))) {
      if (child.exitCode !== null) throw new Error(`the Go program exited: ${out}`);
      if (Date.now() > deadline) throw new Error(`the Go program did not listen within 10 s: ${out}`);
      await sleep(30);
    }
    return { socket, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
