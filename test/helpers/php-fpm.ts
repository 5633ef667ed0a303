// Debian's PHP-FPM as a real FastCGI application for the client tests: a static pool of two
// children on a unix socket in a fresh temp dir, run in the foreground (as root, with -R).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The php-fpm binary (its name carries the PHP version, e.g. /usr/sbin/php-fpm8.2), or null. */
export function findPhpFpm(): string | null {
  try {
    const names = readdirSync('/usr/sbin')
      .filter((n) => /^php-fpm\d+(\.\d+)?$/.test(n))
      .sort();
    return names.length ? join('/usr/sbin', names[names.length - 1]!) : null;
  } catch {
    return null;
  }
}

/** Why the PHP-FPM tests cannot run here, for `skip`; false when they can. In CI they must run: no skip. */
export function phpFpmSkip(): string | false {
  if (findPhpFpm() || process.env.CI === 'true') return false;
  return 'php-fpm is not installed (apt-get install php-fpm)';
}

export interface PhpFpm {
  /** The pool's unix socket. */
  socket: string;
  /** Absolute path of a script written at start, for SCRIPT_FILENAME. */
  script(name: string): string;
  /** PHP-FPM's own log so far (for failure messages). */
  log(): string;
  /** Stops the master (SIGTERM, then SIGKILL for it and its children) and removes the temp dir. */
  stop(): Promise<void>;
}

/** Starts PHP-FPM serving `scripts` (file name -> PHP source); resolves once its socket accepts. */
export async function startPhpFpm(scripts: Record<string, string>, ms = 15_000): Promise<PhpFpm> {
  const bin = findPhpFpm();
  if (!bin) throw new Error('php-fpm is not installed: apt-get install -y php-fpm');
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-php-'));
  const socket = join(dir, 'php.sock');
  for (const [name, source] of Object.entries(scripts)) await writeFile(join(dir, name), source);
  await writeFile(
    join(dir, 'fpm.conf'),
    [
      '[global]',
      `pid = ${join(dir, 'fpm.pid')}`,
      `error_log = ${join(dir, 'fpm.log')}`,
      'daemonize = no',
      '[app]',
      'user = root',
      'group = root',
      `listen = ${socket}`,
      'pm = static',
      'pm.max_children = 2',
      'catch_workers_output = yes',
      '',
    ].join('\n'),
  );
  let output = '';
  const proc = spawn(bin, ['-F', '-R', '-n', '-y', join(dir, 'fpm.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const log = () => {
    let file = '';
    try {
      file = readFileSync(join(dir, 'fpm.log'), 'utf8');
    } catch {
      // Not written yet.
    }
    return output + file;
  };
  const stop = async () => {
    await stopTree(proc, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + ms;
    while (!(await accepts(socket))) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`php-fpm exited: ${log()}`);
      if (Date.now() > deadline) throw new Error(`php-fpm did not listen within ${ms} ms: ${log()}`);
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { socket, script: (name) => join(dir, name), log, stop };
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

/** Pids whose parent is `pid` (the pool's children), read from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

async function stopTree(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = proc.pid;
  if (pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const children = childrenOf(pid);
  // SIGTERM: the master stops its children at once and exits.
  proc.kill('SIGTERM');
  const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  for (const p of gone ? [] : [pid, ...children]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (!gone) await exited;
}
