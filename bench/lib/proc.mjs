// Processes for the benchmarks: start one, wait until it accepts connections, stop it (and what it
// forked) by pid; free ports; memory of a pid from /proc.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** True once `address` (a unix socket path, or a port on 127.0.0.1) accepts a connection. */
export function accepts(address) {
  return new Promise((resolve) => {
    const s = typeof address === 'number' ? connect(address, '127.0.0.1') : connect(address);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Pids whose parent is `ppid`, read from /proc. */
export function childrenOf(ppid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every pid below `pid`. */
export function descendants(pid) {
  const out = [];
  for (const c of childrenOf(pid)) out.push(c, ...descendants(c));
  return out;
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts `cmd args`; resolves once `listen` (socket path or port) accepts. `stop()` sends SIGTERM,
 * then SIGKILL after `graceMs`, to the process and every process below it, by pid.
 */
export async function startProcess(
  cmd,
  args,
  { listen, env = process.env, cwd, startMs = 15_000, graceMs = 3000, detached = false } = {},
) {
  const child = spawn(cmd, args, { env, cwd, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (s) => {
    if (out.length < 20_000) out += s;
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.on('error', (e) => keep(`spawn failed: ${e.message}\n`));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    const below = descendants(child.pid ?? -1);
    if (alive()) {
      kill(child.pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) kill(child.pid, 'SIGKILL');
      await exited;
    }
    for (const pid of below) kill(pid, 'SIGKILL');
  };
  const proc = { pid: child.pid, child, output: () => out, stop, exited };
  if (listen === undefined) return proc;
  const deadline = Date.now() + startMs;
  while (!(await accepts(listen))) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`${cmd} ${args.join(' ')} did not listen on ${listen}: ${out}`);
    }
    await sleep(20);
  }
  return proc;
}

/** { rss, hwm } of `pid` in bytes (VmRSS, and VmHWM: the peak RSS so far), from /proc. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const CLK_TCK = 100; // USER_HZ: what /proc/<pid>/stat counts in on Linux

/** CPU time (user + system, seconds) used so far by `pids` together; a pid gone meanwhile counts 0. */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK_TCK;
}

/** Runs `cmd args` to completion; resolves { code, stdout, stderr }. Killed by pid after `ms`. */
export function run(cmd, args, { ms = 120_000, env, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
    if (input) child.stdin.end(input);
    const timer = setTimeout(() => kill(child.pid, 'SIGKILL'), ms);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}
