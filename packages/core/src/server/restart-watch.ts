// "My file changed": a timer that looks, about once a second, at the app's own main file and at a
// restart.txt beside it (Passenger's restart file), and says when either changed since the start,
// so the process can drain and exit and the web server starts the new code. One stat of each per
// tick, nothing on the request path; the timer never keeps the process alive.
import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';

/** What identifies a version of the main file: a rename over it gives a new inode, an edit a new size or time. */
interface FileMark {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

function mark(s: Stats): FileMark {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null; // EACCES and the like: no verdict, look again next tick
  }
}

/** Why the watch fired, in words for the log line. */
function changeOf(before: FileMark, now: FileMark): string | null {
  if (now.dev !== before.dev || now.ino !== before.ino) return 'was replaced (a new file under its name)';
  if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) return 'was modified';
  return null;
}

export interface RestartWatch {
  stop(): void;
}

/**
 * Watches `main` (a path; its real path is taken now) and `restart.txt` in the real path's
 * directory every `intervalMs`; calls `onChange(why)` once, on the first change seen, then stops.
 * A main file missing for a while (deleted before a new upload) is no change until it is back.
 * Returns null when `main` cannot be read now (nothing to compare against).
 */
export function watchForRestart(
  main: string,
  intervalMs: number,
  onChange: (why: string) => void,
): RestartWatch | null {
  let file: string;
  try {
    file = realpathSync(main);
  } catch {
    return null;
  }
  const first = statOrNull(file);
  if (!first?.isFile()) return null;
  const start = mark(first);
  const restartFile = join(dirname(file), 'restart.txt');
  const restartMtime = statOrNull(restartFile)?.mtimeMs ?? null;
  const timer = setInterval(() => {
    const now = statOrNull(file);
    let why = now ? changeOf(start, mark(now)) : null;
    if (why !== null) why = `${file} ${why}`;
    else {
      const touched = statOrNull(restartFile)?.mtimeMs ?? null;
      if (touched !== null && touched !== restartMtime) why = `${restartFile} was touched`;
    }
    if (why === null) return;
    clearInterval(timer);
    onChange(why);
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
