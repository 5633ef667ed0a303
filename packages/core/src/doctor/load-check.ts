// fcgi doctor's check that the app loads: the file run as the web server would run it (its own
// first line, the web server's PATH, its directory as the working directory, no other environment), in
// check mode (FCGI_CHECK=1), so it loads its settings and modules and reports instead of serving.
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { LOADED_LINE } from '../hosting/check-mode.js';
import type { Finding } from './finding.js';

const TIMEOUT_MS = 30_000;

function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n           ');
}

/**
 * Runs `file` in check mode: itself when `direct` (its exec bit and first line are fine), else
 * with this Node (so the app's code is still checked when the first line is what is wrong), with
 * `path` as its only environment.
 */
export function checkLoads(file: string, direct: boolean, path: string): Finding {
  const [command, args] = direct ? [file, []] : [process.execPath, [file]];
  const r = spawnSync(command, args, {
    cwd: dirname(file),
    env: { PATH: path, FCGI_CHECK: '1' },
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = r.stdout ?? '';
  const line = out.split('\n').find((l) => l.startsWith(LOADED_LINE));
  const how = direct ? '' : ` (run as: ${process.execPath} ${basename(file)})`;
  if (r.status === 0 && line !== undefined) {
    return { level: 'ok', check: 'app loads', message: `${line.slice('fcgi check: '.length)}${how}` };
  }
  const why = r.error
    ? (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
      ? `it did not finish loading in ${TIMEOUT_MS / 1000} s`
      : r.error.message
    : `it exited with ${r.status ?? r.signal}`;
  const said = tail(`${r.stderr ?? ''}\n${out}`);
  return {
    level: 'problem',
    check: 'app loads',
    message: `the app did not load${how}: ${why}${said ? `; it said:\n           ${said}` : ''}`,
    // The app's own refusals (fcgi.env, no serve()) name their fix: repeat it.
    fix:
      /\bfix: (.+)$/m.exec(said)?.[1] ??
      `fix what the message above names (a missing module, a setting, an error in the code); FCGI_CHECK=1 ./${basename(file)} shows all of it`,
  };
}
