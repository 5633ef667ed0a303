// Who runs the app and by which rules, for fcgi doctor: Apache with suEXEC (the app runs as its
// owner and suexec's checks apply), Apache without it (the app runs as Apache's user), or another
// server or spawner (nginx, lighttpd, Caddy with spawn-fcgi or systemd: no .htaccess, no suEXEC).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { userByName, userName } from '../hosting/user-name.js';
import { SUEXEC_PATH } from './interpreter.js';

export type ServerKind = 'suexec' | 'apache' | 'other';
export const SERVER_KINDS: readonly ServerKind[] = ['suexec', 'apache', 'other'];

export interface Runner {
  kind: ServerKind;
  uid: number;
  gid: number;
  /** The PATH the app's first line is looked up on. */
  path: string;
  /** How the rules were chosen, for the report's first line. */
  why: string;
}

/** Where Debian's and Red Hat's Apache keep the suexec helper. */
const SUEXEC_HELPERS = ['/usr/lib/apache2/suexec', '/usr/sbin/suexec'];
/** The PATH Apache passes to scripts without suEXEC: systemd's default for services. */
const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function suexecHelper(): string | undefined {
  for (const path of SUEXEC_HELPERS) {
    try {
      if (statSync(path).mode & 0o4000) return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Apache's user: APACHE_RUN_USER in Debian's envvars, else www-data, else apache (Red Hat). */
function apacheUser(): { name: string; uid: number; gid: number } | undefined {
  let named: string | undefined;
  try {
    named = /^export APACHE_RUN_USER=(\S+)/m.exec(readFileSync('/etc/apache2/envvars', 'utf8'))?.[1];
  } catch {
    // not Debian's layout
  }
  for (const name of [named, 'www-data', 'apache']) {
    const ids = name ? userByName(name) : undefined;
    if (name && ids) return { name, ...ids };
  }
  return undefined;
}

/**
 * The rules `kind` asks for, or the ones this machine suggests: suEXEC when its helper is
 * installed setuid and doctor runs as a customer (not root: suEXEC never runs root's files);
 * else Apache when it is installed; else another server.
 */
export function chooseRunner(kind: ServerKind | undefined, uid: number, gid: number): Runner {
  const helper = suexecHelper();
  const apacheInstalled = existsSync('/etc/apache2') || existsSync('/etc/httpd');
  const chosen: ServerKind = kind ?? (helper && uid !== 0 ? 'suexec' : apacheInstalled ? 'apache' : 'other');
  const how = kind ? 'as asked (--server)' : 'found on this machine; --server suexec|apache|other to choose';
  if (chosen === 'suexec') {
    return { kind: chosen, uid, gid, path: SUEXEC_PATH, why: `Apache with suEXEC, the app runs as you (${how})` };
  }
  if (chosen === 'apache') {
    const user = apacheUser();
    const who = user ? userName(user.uid) : `you (no Apache user found)`;
    return {
      kind: chosen,
      uid: user?.uid ?? uid,
      gid: user?.gid ?? gid,
      path: SERVICE_PATH,
      why: `Apache without suEXEC, the app runs as ${who} (${how})`,
    };
  }
  return {
    kind: chosen,
    uid,
    gid,
    path: process.env.PATH ?? SERVICE_PATH,
    why: `a web server other than Apache, the app runs as you with your PATH (${how})`,
  };
}
