// The processes below a server the tests started (Apache's workers and mod_fcgid's apps,
// lighttpd's spawned apps), read from /proc, so a stop can end every one of them by pid even when
// the server itself had to be killed hard. A pid is remembered with its start time: a pid the
// kernel reused for someone else's process is never signalled.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { exited, signalPid } from './app-process.js';

export interface ProcessId {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
  start: string;
}

/** [ppid, start time] of `pid`, or null when it is gone. */
function stat(pid: number): [number, string] | null {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return [Number(f[1]), f[19]!];
  } catch {
    return null;
  }
}

/** Every live descendant of `root` (children, their children, ...), root excluded. */
export function descendants(root: number | undefined): ProcessId[] {
  if (root === undefined) return [];
  const parentOf = new Map<number, [number, string]>();
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) parentOf.set(Number(name), s);
  }
  const out: ProcessId[] = [];
  const below = new Set([root]);
  // Parents usually have lower pids, but not always (pid wrap): repeat until nothing is added.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, [ppid, start]] of parentOf) {
      if (!below.has(pid) && below.has(ppid)) {
        below.add(pid);
        out.push({ pid, start });
        grew = true;
      }
    }
  }
  return out;
}

/** True while the process `id` names is alive (same pid, same start time). */
export function alive(id: ProcessId): boolean {
  return stat(id.pid)?.[1] === id.start;
}

/** SIGKILL each process of `ids` that is still the one remembered. */
export function killLeftovers(ids: readonly ProcessId[]): number {
  let n = 0;
  for (const id of ids) {
    if (!alive(id)) continue;
    try {
      process.kill(id.pid, 'SIGKILL');
      n++;
    } catch {
      // exited meanwhile
    }
  }
  return n;
}

/** A child's stdout and stderr as they come (up to `limit` characters), and why it failed to spawn. */
export function collectOutput(child: ChildProcess, limit = 100_000): () => string {
  let out = '';
  for (const s of [child.stdout, child.stderr]) {
    if (!s) continue;
    s.setEncoding('utf8');
    s.on('data', (t: string) => {
      if (out.length < limit) out += t;
    });
  }
  child.once('error', (e) => {
    out += `spawn failed: ${e.message}\n`;
  });
  return () => out;
}

/** Reads a log file's text; '' while it does not exist yet. */
export function logReader(path: string): () => string {
  return () => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
}

/**
 * Stops a server started by a test and everything below it: SIGTERM, SIGKILL after `graceMs`,
 * then any descendant still alive (spawned apps), all by pid.
 */
export async function stopTree(child: ChildProcess, graceMs: number): Promise<void> {
  const below = descendants(child.pid);
  if (child.exitCode === null && child.signalCode === null) {
    signalPid(child.pid, 'SIGTERM');
    if (!(await exited(child, graceMs))) {
      signalPid(child.pid, 'SIGKILL');
      await exited(child, 2000);
    }
  }
  killLeftovers([...below, ...descendants(child.pid)]);
}
