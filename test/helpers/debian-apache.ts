// An Apache of the test's own laid out as Debian's /etc/apache2 (mods-available, mods-enabled,
// sites-available, sites-enabled, envvars), so that the docs' admin commands (a2enmod, a2ensite,
// apache2ctl configtest) run unchanged against it with APACHE_CONFDIR pointing at its ServerRoot,
// and never touch the system's Apache. It starts with nothing enabled but the MPM, authz_core and
// mime; what the page enables is loaded when the test restarts it where the page says
// `systemctl restart apache2` (a stop and a start, on a new port).
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApache, type Apache } from './apache.js';
import type { DeployDir, RunAs } from './deploy-app.js';

export interface DebianApache {
  /** The running Apache (a new one after restart()). */
  readonly apache: Apache;
  /** Stops it and starts it again with the config as it is now, as `systemctl restart apache2` does. */
  restart(): Promise<void>;
  /** The ServerRoot, standing for /etc/apache2. */
  readonly confDir: string;
  /** The error log, standing for /var/log/apache2/error.log. */
  readonly errorLogFile: string;
  /** The environment the reader's shell gets so that a2enmod & co. act on this Apache. */
  readonly env: Record<string, string>;
}

/** Starts it in `deploy`/apache with `mpm`; the site and modules come from the page. */
export async function startDebianApache(
  deploy: DeployDir,
  user: RunAs | null,
  mpm: 'event' | 'prefork' = 'event',
): Promise<DebianApache> {
  const confDir = deploy.mkdir('apache');
  for (const d of ['mods-enabled', 'sites-available', 'sites-enabled', 'state', 'lock']) deploy.mkdir(`apache/${d}`);
  const run = deploy.mkdir('apache/run', user);
  // Debian's module files, read only: a2enmod links them into mods-enabled.
  if (!existsSync(join(confDir, 'mods-available')))
    symlinkSync('/etc/apache2/mods-available', join(confDir, 'mods-available'));
  const ipc = deploy.mkdir('apache/fcgid', user);
  const runUser = user?.name ?? process.env.USER ?? 'root';
  // What a2enmod and apache2ctl read from /etc/apache2/envvars, made this Apache's.
  writeFileSync(
    join(confDir, 'envvars'),
    [
      `export APACHE_RUN_USER=${runUser}`,
      `export APACHE_RUN_GROUP=${runUser}`,
      `export APACHE_RUN_DIR=${run}`,
      `export APACHE_LOCK_DIR=${join(confDir, 'lock')}`,
      `export APACHE_LOG_DIR=${confDir}`,
      `export APACHE_STATE_DIRECTORY=${join(confDir, 'state')}`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(confDir, 'htdocs'), { recursive: true });
  const start = () =>
    startApache(deploy, {
      mpm,
      modules: [],
      docRoot: join(confDir, 'htdocs'),
      user,
      // Debian's apache2.conf includes the enabled modules and sites the same way; the module files
      // read ${APACHE_RUN_DIR} (cgid's socket), and mod_fcgid keeps its sockets here, not in /var/lib.
      extra: `Define APACHE_RUN_DIR ${run}
Define APACHE_LOG_DIR ${confDir}
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
<IfModule mod_fcgid.c>
  FcgidIPCDir ${ipc}
  FcgidProcessTableFile ${join(ipc, 'shm')}
</IfModule>
IncludeOptional sites-enabled/*.conf
`,
    });
  let apache = await start();
  // apache2ctl runs `apache2 -d <APACHE_CONFDIR>`, which reads apache2.conf there.
  if (!existsSync(join(confDir, 'apache2.conf'))) symlinkSync('httpd.conf', join(confDir, 'apache2.conf'));
  return {
    get apache() {
      return apache;
    },
    async restart() {
      await apache.stop();
      apache = await start();
    },
    confDir,
    errorLogFile: join(confDir, 'error.log'),
    env: { APACHE_CONFDIR: confDir },
  };
}
