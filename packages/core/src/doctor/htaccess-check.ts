// fcgi doctor's reading of the .htaccess beside the app: a handler for the file's extension,
// ExecCGI, the rewrite that sends every other path to the app, and fcgi.env kept from visitors.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ENV_FILE_NAME } from '../hosting/env-file.js';
import type { Finding } from './finding.js';

const HANDLERS = new Set(['fcgid-script', 'cgi-script']);

function directives(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));
}

function handlerFinding(name: string, lines: string[][]): Finding {
  const ext = extname(name).toLowerCase();
  for (const [d, handler, ...exts] of lines) {
    const dir = d!.toLowerCase();
    if (dir === 'sethandler' && handler && HANDLERS.has(handler.toLowerCase())) {
      return { level: 'ok', check: '.htaccess handler', message: `SetHandler ${handler}` };
    }
    if (dir === 'addhandler' && handler && HANDLERS.has(handler.toLowerCase())) {
      const mapped = exts.some((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase() === ext);
      if (mapped) return { level: 'ok', check: '.htaccess handler', message: `AddHandler ${handler} for ${ext}` };
    }
  }
  const handler = ext === '.cgi' ? 'cgi-script' : 'fcgid-script';
  return {
    level: 'problem',
    check: '.htaccess handler',
    message: `no handler for ${ext || 'the file'} (AddHandler fcgid-script or cgi-script): Apache would send the file's text instead of running it`,
    fix:
      ext === '.fcgi' || ext === '.cgi'
        ? `add the line: AddHandler ${handler} ${ext}`
        : `name the file app.fcgi (mod_fcgid) or app.cgi (CGI), then add: AddHandler ${handler} .fcgi`,
  };
}

const EXEC_CGI_HELP =
  'add the line: Options +ExecCGI — if Apache then answers 500 and its log says "Options not allowed here", ' +
  "the host's AllowOverride does not let .htaccess set Options (Debian's stock userdir.conf does not, and " +
  'leaves ExecCGI off): ask the host to allow ExecCGI for your directory';

/** What Apache logs with its 403 when ExecCGI is off: mod_fcgid's words, or mod_cgi's. */
function execCgiOff(name: string): string {
  return extname(name).toLowerCase() === '.cgi'
    ? '"Options ExecCGI is off in this directory"'
    : '"mod_fcgid: location of script ... does not have ExecCGI enabled"';
}

function execCgiFinding(name: string, lines: string[][]): Finding {
  const options = lines.filter(([d]) => d!.toLowerCase() === 'options');
  if (options.length === 0) {
    return {
      level: 'warning',
      check: '.htaccess ExecCGI',
      message: `no Options +ExecCGI: the app runs only where the server's config enables ExecCGI here, else Apache answers 403 (${execCgiOff(name)} in its log)`,
      fix: EXEC_CGI_HELP,
    };
  }
  // The last Options line decides; one without +/- replaces the whole set.
  const words = options[options.length - 1]!.slice(1);
  const on = words.some((w) => /^\+?execcgi$/i.test(w));
  const relative = words.every((w) => /^[+-]/.test(w));
  // Whether the host lets .htaccess set Options is in the server's config, which doctor cannot see.
  if (on) {
    return {
      level: 'ok',
      check: '.htaccess ExecCGI',
      message: `Options ${words.join(' ')} (where the host does not allow it, Apache answers 500 and its log says "Options not allowed here": ask the host to allow ExecCGI for your directory)`,
    };
  }
  return {
    level: relative && !words.some((w) => /^-execcgi$/i.test(w)) ? 'warning' : 'problem',
    check: '.htaccess ExecCGI',
    message: `Options ${words.join(' ')} leaves ExecCGI off: Apache answers 403 (${execCgiOff(name)} in its log)`,
    fix: EXEC_CGI_HELP,
  };
}

function rewriteFinding(name: string, lines: string[][]): Finding {
  const engine = lines.some(([d, v]) => d!.toLowerCase() === 'rewriteengine' && v?.toLowerCase() === 'on');
  const rule = lines.some(
    ([d, , target]) =>
      d!.toLowerCase() === 'rewriterule' && !!target && target.replace(/^\//, '').split('/').includes(name),
  );
  if (engine && rule)
    return { level: 'ok', check: '.htaccess rewrite', message: `paths that are not files go to ${name}` };
  return {
    level: 'warning',
    check: '.htaccess rewrite',
    message: `no RewriteRule sends paths to ${name}: only URLs under /${name}/ reach the app`,
    fix: `add the lines: RewriteEngine On / RewriteCond %{REQUEST_FILENAME} !-f / RewriteRule ^(.*)$ ${name}/$1 [L,QSA]`,
  };
}

function envFileFinding(lines: string[][]): Finding {
  const denied = lines.some(
    ([d, pattern, , flags]) =>
      (d!.toLowerCase() === 'rewriterule' && pattern?.includes('fcgi\\.env') && /\bF\b/i.test(flags ?? '')) ||
      (d!.toLowerCase().startsWith('<files') && pattern?.replace(/[">]/g, '') === ENV_FILE_NAME),
  );
  if (denied) return { level: 'ok', check: '.htaccess fcgi.env', message: `visitors are refused ${ENV_FILE_NAME}` };
  return {
    level: 'warning',
    check: '.htaccess fcgi.env',
    message: `nothing refuses ${ENV_FILE_NAME} to visitors: only its mode (600) keeps Apache from serving it`,
    fix: 'add the line (after RewriteEngine On, before the other rules): RewriteRule ^fcgi\\.env$ - [F]',
  };
}

/** Checks the .htaccess beside `file`. */
export function checkHtaccess(file: string): Finding[] {
  const path = join(dirname(file), '.htaccess');
  const name = basename(file);
  if (!existsSync(path)) {
    return [
      {
        level: 'problem',
        check: '.htaccess',
        message: `there is no .htaccess beside ${name}: Apache does not know to run it (unless the host set that up for you)`,
        fix: `fcgi bundle app.ts ${name} --htaccess writes it; or see docs/deploy/apache-mod-fcgid.md`,
      },
    ];
  }
  let lines: string[][];
  try {
    lines = directives(readFileSync(path, 'utf8'));
  } catch (e) {
    return [
      {
        level: 'problem',
        check: '.htaccess',
        message: `cannot read ${path} (${(e as NodeJS.ErrnoException).code})`,
        fix: `chmod 644 ${path}`,
      },
    ];
  }
  const out = [handlerFinding(name, lines), execCgiFinding(name, lines), rewriteFinding(name, lines)];
  if (existsSync(join(dirname(file), ENV_FILE_NAME))) out.push(envFileFinding(lines));
  return out;
}
