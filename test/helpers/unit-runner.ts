// A systemd service unit from a docs page, run the way systemd would run it, without systemd: its
// ExecStart= command as its User= (when we are root), with exactly its Environment= lines and
// systemd's PATH, in `/`, with its RuntimeDirectory= made for that user first, started again after
// it exits when it says Restart=always. Stopped by pid (SIGTERM, then SIGKILL).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopChild } from './app-process.js';
import { APP_PATH, type RunAs } from './deploy-app.js';

export interface Unit {
  execStart: string[];
  user: string | null;
  env: Record<string, string>;
  runtimeDirectory: string | null;
  restartAlways: boolean;
}

/** The [Service] lines the runner understands; anything it does not know about is left out. */
export function parseUnit(text: string): Unit {
  const unit: Unit = { execStart: [], user: null, env: {}, runtimeDirectory: null, restartAlways: false };
  for (const line of text.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'ExecStart') unit.execStart = value.split(' ');
    else if (key === 'User') unit.user = value;
    else if (key === 'RuntimeDirectory') unit.runtimeDirectory = value;
    else if (key === 'Restart') unit.restartAlways = value === 'always';
    else if (key === 'Environment') {
      const eq = value.indexOf('=');
      unit.env[value.slice(0, eq)] = value.slice(eq + 1);
    }
  }
  assert.ok(unit.execStart.length > 0, 'the unit has an ExecStart= line');
  return unit;
}

export interface RunningUnit {
  /** How many times its command was started. */
  starts(): number;
  /** What its processes wrote on stderr (systemd would put it in the journal). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Runs `unit`, its RuntimeDirectory= made under `runDir` (standing for /run), as `user` (the
 * unit's User=, looked up by the caller; null: ours).
 */
export function runUnit(unit: Unit, runDir: string, user: RunAs | null): RunningUnit {
  if (unit.runtimeDirectory) {
    const dir = join(runDir, unit.runtimeDirectory);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (user) chownSync(dir, user.uid, user.gid);
  }
  let child: ChildProcess | null = null;
  let starts = 0;
  let stopping = false;
  let err = '';
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    starts++;
    const c = spawn(unit.execStart[0]!, unit.execStart.slice(1), {
      cwd: '/',
      env: { PATH: APP_PATH, ...unit.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    child = c;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => {
      if (err.length < 1_000_000) err += s;
    });
    c.on('error', (e) => {
      err += `spawn failed: ${e.message}\n`;
    });
    // systemd's RestartSec= is 100 ms by default.
    c.on('exit', () => {
      if (!stopping && unit.restartAlways && starts < 20) timer = setTimeout(start, 100);
    });
  };
  start();
  return {
    starts: () => starts,
    stderr: () => err,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      if (child) await stopChild(child, 5000);
    },
  };
}

/** The user a unit's User= names, from /etc/passwd. */
export function lookupUser(name: string): RunAs {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `no user ${name} in /etc/passwd`);
  const [, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}
