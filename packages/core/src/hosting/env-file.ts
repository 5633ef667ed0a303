// fcgi.env: the app's settings in a file beside its main file, for hosts whose web server hands
// the app a cleared environment (suEXEC keeps only its own list). Read with dotenv's parser; a
// value never replaces a variable the environment already has; the file is refused when users
// other than its owner may read or write it, or when it belongs to another user than the app's.
import { readFileSync, realpathSync, type Stats, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'dotenv';
import { ErrorCode, FcgiError } from '../errors.js';
import { userName } from './user-name.js';

/** The file's name, in the directory of the app's main file. */
export const ENV_FILE_NAME = 'fcgi.env';

/** What loading an fcgi.env (or bundle-time values) did. */
export interface EnvLoad {
  /** The file read, or null when there was none. */
  file: string | null;
  /** Names set from it. */
  set: string[];
  /** Names it has that the environment already had: left as they were. */
  kept: string[];
}

/** A reason to refuse an fcgi.env, and what to do about it. */
export interface EnvFileRefusal {
  problem: string;
  fix: string;
}

/**
 * Why the fcgi.env `file` with stats `st` must be refused when the app runs as `uid`, or undefined
 * when it is fine: not a regular file, readable or writable by others (mode & 0o006), or owned by
 * another user.
 */
export function envFileRefusal(file: string, st: Stats, uid: number | undefined): EnvFileRefusal | undefined {
  if (!st.isFile()) {
    return { problem: `${file} is not a regular file`, fix: `remove it, or make it a file of NAME=value lines` };
  }
  const mode = st.mode & 0o777;
  if (mode & 0o006) {
    const what = mode & 0o004 && mode & 0o002 ? 'readable and writable' : mode & 0o004 ? 'readable' : 'writable';
    return {
      problem: `${file} is ${what} by every user of this machine (mode ${mode.toString(8)}), and it may hold secrets`,
      fix: `chmod 600 ${file}`,
    };
  }
  if (uid !== undefined && st.uid !== uid) {
    return {
      problem: `${file} belongs to ${userName(st.uid)}, but the app runs as ${userName(uid)}`,
      fix: `upload it again as ${userName(uid).replace(/ \(\d+\)$/, '')} (the user the site runs as), then chmod 600 ${file}`,
    };
  }
  return undefined;
}

/** Sets each of `values` that `env` does not have yet (dotenv's rule: the environment wins). */
export function applyEnv(values: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env): EnvLoad {
  const result: EnvLoad = { file: null, set: [], kept: [] };
  for (const [name, value] of Object.entries(values)) {
    if (env[name] !== undefined) result.kept.push(name);
    else {
      env[name] = value;
      result.set.push(name);
    }
  }
  return result;
}

/**
 * Reads `dir`/fcgi.env and sets its values that `env` lacks. No file: nothing happens. A file
 * refused by envFileRefusal(), or unreadable, throws an FcgiError (code ERR_FCGI_ENV_FILE) whose
 * message says the fix: the app must not run with half its settings.
 */
export function loadEnvFile(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = process.getuid?.(),
): EnvLoad {
  const file = join(dir, ENV_FILE_NAME);
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file: null, set: [], kept: [] };
    throw refused(`cannot read ${file} (${(e as NodeJS.ErrnoException).code})`, `make it readable: chmod 600 ${file}`);
  }
  const refusal = envFileRefusal(file, st, uid);
  if (refusal) throw refused(refusal.problem, refusal.fix);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw refused(`cannot read ${file} (${(e as NodeJS.ErrnoException).code})`, `make it readable: chmod 600 ${file}`);
  }
  return { ...applyEnv(parse(text), env), file };
}

function refused(problem: string, fix: string): FcgiError {
  return new FcgiError(ErrorCode.ENV_FILE, `${problem}. The app does not start without its settings; fix: ${fix}`);
}

/** The directory of the app's main file (symlinks resolved), or undefined when there is none. */
export function appDirectory(mainFile: string | undefined = process.argv[1]): string | undefined {
  if (!mainFile) return undefined;
  try {
    return dirname(realpathSync(mainFile));
  } catch {
    return undefined;
  }
}

let loaded: EnvLoad | undefined;

/**
 * Loads the running app's fcgi.env (beside its main file, `process.argv[1]`) once per process: a
 * bundle does it before the app's modules run, serve() when nothing did yet. Throws as loadEnvFile().
 */
export function loadAppEnvFile(mainFile?: string): EnvLoad {
  if (loaded) return loaded;
  const dir = appDirectory(mainFile);
  // Tried once: a refusal throws here, and a later call (the serve() that answers the start-up
  // failure with a 500) goes on without the file instead of failing again.
  loaded = { file: null, set: [], kept: [] };
  if (dir !== undefined) loaded = loadEnvFile(dir);
  return loaded;
}
