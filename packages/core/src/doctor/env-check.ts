// fcgi doctor's check of the fcgi.env beside the app: the rules the app itself applies at start
// (mode, owner), and the names it sets (never their values: they may be secrets).
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'dotenv';
import { ENV_FILE_NAME, envFileRefusal } from '../hosting/env-file.js';
import type { Finding } from './finding.js';

/** Checks `dirname(file)`/fcgi.env as the app running as `uid` will. */
export function checkEnvFile(file: string, uid: number): Finding[] {
  const path = join(dirname(file), ENV_FILE_NAME);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return [{ level: 'ok', check: ENV_FILE_NAME, message: `none (optional: the app's settings, NAME=value lines)` }];
  }
  const refusal = envFileRefusal(path, st, uid);
  if (refusal) {
    // A process that already refused the file answers 500 until restart.txt says to start again.
    const restart = join(dirname(file), 'restart.txt');
    return [
      {
        level: 'problem',
        check: ENV_FILE_NAME,
        message: `${refusal.problem}: the app refuses it and does not start (every request gets a 500; the error log says why)`,
        fix: `${refusal.fix} && touch ${restart}`,
      },
    ];
  }
  let names: string[];
  try {
    names = Object.keys(parse(readFileSync(path, 'utf8')));
  } catch (e) {
    return [
      {
        level: 'problem',
        check: ENV_FILE_NAME,
        message: `cannot read ${path} (${(e as NodeJS.ErrnoException).code})`,
        fix: `chmod 600 ${path}`,
      },
    ];
  }
  return [
    {
      level: names.length ? 'ok' : 'warning',
      check: ENV_FILE_NAME,
      message: names.length ? `sets ${names.join(', ')} (mode 600, yours)` : `${path} sets nothing`,
      fix: 'write one NAME=value per line',
    },
  ];
}
