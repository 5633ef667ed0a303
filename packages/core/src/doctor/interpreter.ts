// fcgi doctor's check of the interpreter on the first line: it exists, it can be run, and it is
// Node 20 or newer. `#!/usr/bin/env node` is looked up on the PATH the web server gives the app
// (suEXEC's own), not on the login shell's, which often holds a Node that the web server never sees.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { type Finding, SLOW_UNDER_FCGID } from './finding.js';

/** The PATH suEXEC sets for the programs it runs (AP_SAFE_PATH in Debian's build). */
export const SUEXEC_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The oldest Node the framework and its bundles run on. */
const MIN_MAJOR = 20;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on `path` (colon-separated), or undefined. */
export function which(name: string, path: string): string | undefined {
  for (const dir of path.split(':')) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The program and its argument from a first line `#!program arg` (Linux passes the rest as one argument). */
export function parseShebang(line: string): { program: string; arg: string | undefined } {
  const rest = line.slice(2).trim();
  const space = rest.search(/[ \t]/);
  if (space < 0) return { program: rest, arg: undefined };
  return { program: rest.slice(0, space), arg: rest.slice(space + 1).trim() || undefined };
}

/** A path that needs no quoting in a shell word or a sed replacement. */
const PLAIN_PATH = /^\/[\w./+-]+$/;

/**
 * The fix for a first line that names no usable Node: the Node this shell finds, put on the first
 * line of `file` in place (the host has no npm to bundle again) or by bundling again elsewhere.
 */
function bundleFix(file: string): string {
  const mine = which('node', process.env.PATH ?? '');
  if (mine === undefined || !PLAIN_PATH.test(mine)) {
    return (
      `name a Node 20 by its full path on the first line: fcgi bundle src/app.ts ${file} --node /path/to/node` +
      ` (or edit the first line to #!/path/to/node)`
    );
  }
  return `run: sed -i '1s|.*|#!${mine}|' ${file}   (or bundle it again: fcgi bundle src/app.ts ${file} --node ${mine})`;
}

/** What the visitor and the error log show when the first line's program cannot be run. */
const CANNOT_START =
  ': Apache cannot start the app; visitors get a 500, and under suEXEC the error log says "suexec policy violation" ' +
  `(suEXEC's own log: "No such file or directory: exec failed")${SLOW_UNDER_FCGID}`;

/**
 * Checks the first line `line` (without its line end) of `file` (its name, for the fix),
 * `#!/usr/bin/env` looking on `path`.
 */
export function checkInterpreter(line: string, path: string, file = 'app.fcgi'): Finding[] {
  if (!line.startsWith('#!')) return [];
  const { program, arg } = parseShebang(line);
  let node = program;
  if (basename(program) === 'env') {
    if (!executable(program)) {
      return [
        {
          level: 'problem',
          check: 'interpreter',
          message: `the first line runs ${program}, which does not exist${CANNOT_START}`,
          fix: bundleFix(file),
        },
      ];
    }
    const name = arg?.replace(/^-S\s+/, '').split(/\s+/)[0];
    if (!name) {
      return [
        {
          level: 'problem',
          check: 'interpreter',
          message: `the first line runs ${program} without a program name`,
          fix: bundleFix(file),
        },
      ];
    }
    const found = which(name, path);
    if (found === undefined) {
      const shell = which(name, process.env.PATH ?? '');
      return [
        {
          level: 'problem',
          check: 'interpreter',
          message:
            `the first line looks for "${name}" on the PATH the web server gives the app${path === SUEXEC_PATH ? " (suEXEC's " : ' ('}${path}), and there is none there` +
            (shell ? ` (your shell finds ${shell}, the web server does not)` : ''),
          fix: bundleFix(file),
        },
      ];
    }
    node = found;
  } else if (!executable(program)) {
    return [
      {
        level: 'problem',
        check: 'interpreter',
        message: `the first line runs ${program}, which does not exist or cannot be run${CANNOT_START}`,
        fix: bundleFix(file),
      },
    ];
  }
  const r = spawnSync(node, ['--version'], { encoding: 'utf8', timeout: 10_000, env: { PATH: path } });
  const version = /^v(\d+)\.\d+\.\d+/.exec(r.stdout ?? '');
  if (!version) {
    return [
      {
        level: 'problem',
        check: 'interpreter',
        message: `${node} --version did not answer a Node version (${r.error?.message ?? (r.stderr || r.stdout || `status ${r.status}`).trim()})`,
        fix: bundleFix(file),
      },
    ];
  }
  if (Number(version[1]) < MIN_MAJOR) {
    return [
      {
        level: 'problem',
        check: 'interpreter',
        message: `the first line runs ${node}, which is Node ${version[0]}; the app needs Node ${MIN_MAJOR} or newer`,
        fix: bundleFix(file),
      },
    ];
  }
  return [{ level: 'ok', check: 'interpreter', message: `the first line runs ${node} (Node ${version[0]})` }];
}
