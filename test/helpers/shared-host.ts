// A cPanel/DirectAdmin-like shared host on loopback, built from Debian packages: Apache 2.4 (event
// MPM) started as root, handing requests to www-data, with mod_userdir, mod_rewrite, mod_fcgid,
// mod_cgid and apache2-suexec-pristine, so each customer's scripts under /home/<name>/public_html
// run as that customer; AllowOverride limited as those hosts set it. Two customers are Unix users
// (made with useradd when absent). What the tests upload into their homes is removed afterwards.
// The customers and their web space: customers.ts; the common upload mistakes: upload-mistakes.ts.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IN_CI, ROOT } from './app-process.js';
import { APACHE, hasApacheModule, startApache, type Apache } from './apache.js';
import { createDeployDir, webUser, type DeployDir } from './deploy-app.js';
import { CUSTOMER_NAMES, ensureCustomer, lockCustomers, WebSpace } from './customers.js';
import { freePort } from './nginx.js';

/** Debian's suEXEC wrapper (apache2-suexec-pristine): docroot /var/www, userdir public_html. */
export const SUEXEC = '/usr/lib/apache2/suexec';
/** Where that suexec writes why it refused (compiled in: AP_LOG_EXEC; only root can read it). */
export const SUEXEC_LOG = '/var/log/apache2/suexec.log';
/** suEXEC's compiled-in PATH (AP_SAFE_PATH): the only PATH a customer's script gets. */
export const SUEXEC_SAFE_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];

/**
 * How long mod_fcgid 2.3.9 (Debian 12's) may keep a visitor waiting for an app whose process
 * exits as it starts (suEXEC refuses the file; env finds no interpreter) before it answers. Its
 * handler, handle_request() in fcgid_bridge.c, makes FCGID_REQUEST_COUNT (32) rounds of
 * FCGID_APPLY_TRY_COUNT (2) tries to take an idle process and connect to its socket; each try but
 * the very first sleeps 1 s, then asks the process manager for a spawn, which it refuses while the
 * class's spawn score is at FcgidSpawnScoreUpLimit (10; +1 a spawn, +2 a death, -1 a second). A
 * process already gone when Apache connects refuses the connection and starts the next round;
 * after the last round the visitor gets a 503 and the error log "mod_fcgid: can't apply process
 * slot for <script>". With every round lost (the process manager's writes delayed 30 ms with
 * strace) that came after 42 to 44 s; the bound gives each of the 64 tries its second and 150 ms
 * for the spawn and the connect (a lost round took 1003 to 1022 ms here).
 */
export const FCGID_GIVE_UP_MS = 32 /* FCGID_REQUEST_COUNT */ * 2 /* FCGID_APPLY_TRY_COUNT */ * (1000 + 150);

/** The Apache modules the host loads besides the MPM, authz_core and mime. */
const MODULES = ['rewrite', 'userdir', 'suexec', 'fcgid', 'cgid', 'dir', 'env', 'alias'];

/**
 * The AllowOverride of the customers' web space: these classes and, of Options, only this list (no
 * FollowSymLinks, no All), close to DirectAdmin's default for users' web space. Options itself is
 * Debian's userdir.conf (no ExecCGI): the .htaccess that `fcgi bundle --htaccess` writes must turn
 * ExecCGI on, and may.
 */
export const ALLOW_OVERRIDE =
  'AuthConfig FileInfo Indexes Limit Options=ExecCGI,Includes,IncludesNOEXEC,Indexes,MultiViews,SymLinksIfOwnerMatch';
const OPTIONS = 'MultiViews Indexes SymLinksIfOwnerMatch IncludesNoExec';

/** Debian 12's /etc/apache2/mods-available/userdir.conf as shipped (the stock-userdir mistake). */
const DEBIAN_STOCK_USERDIR = `<Directory /home/*/public_html>
    AllowOverride FileInfo AuthConfig Limit Indexes
    Options MultiViews Indexes SymLinksIfOwnerMatch IncludesNoExec
    Require method GET POST OPTIONS
  </Directory>`;

/** What is missing for this host here, or null when everything is installed. */
export function sharedHostMissing(): string | null {
  const missing: string[] = [];
  if (!APACHE) missing.push('apache2');
  if (!existsSync(SUEXEC)) missing.push('apache2-suexec-pristine');
  // Apache turns suEXEC on only when the wrapper is setuid root (Debian installs it 4754 root:www-data).
  else if ((statSync(SUEXEC).mode & 0o4000) === 0 || statSync(SUEXEC).uid !== 0)
    missing.push(`a setuid-root ${SUEXEC}`);
  if (!hasApacheModule('fcgid')) missing.push('libapache2-mod-fcgid');
  for (const m of MODULES) if (!hasApacheModule(m)) missing.push(`mod_${m} (apache2-bin)`);
  return missing.length
    ? `missing: ${missing.join(', ')} (apt-get install apache2 apache2-suexec-pristine libapache2-mod-fcgid)`
    : null;
}

/**
 * Why the shared-host tests cannot run here, or false. Not root: always a skip (Apache must start
 * as root to switch to www-data, suEXEC to the customers, and useradd needs root). A missing
 * package: a skip outside CI; in CI the tests run and fail on it (scripts/system-deps.mjs lists them).
 */
export function sharedHostSkip(): string | false {
  if (process.getuid?.() !== 0) {
    return 'needs root: Apache starts as root to hand requests to www-data and suEXEC to each customer, and the customers are Unix users made with useradd';
  }
  const missing = sharedHostMissing();
  if (missing && !IN_CI) return `${missing}; skipped outside CI`;
  return false;
}

export interface SharedHost {
  readonly apache: Apache;
  /** The host as built: limited AllowOverride, ExecCGI allowed from .htaccess. */
  readonly port: number;
  /** The same host with Debian's stock userdir.conf (no Options in AllowOverride). */
  readonly stockPort: number;
  readonly alice: WebSpace;
  readonly bob: WebSpace;
  readonly deploy: DeployDir;
  /** Apache's error log (the apps' stderr lands here). */
  errorLog(): string;
  /** What suexec appended to its own log since the host started (root only). */
  suexecLog(): string;
  /** Stops Apache (and every process below it), removes the uploads and the temp dir. */
  stop(): Promise<void>;
}

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

/**
 * Builds and starts the host (waiting while another test file has it); throws with the reason
 * when a package is missing. `serverConfig` is added to Apache's server config (what only the
 * host's administrator can set, such as FcgidInitialEnv).
 */
export async function startSharedHost(prefix = 'fcgi-shared-host-', serverConfig = ''): Promise<SharedHost> {
  const missing = sharedHostMissing();
  if (missing) throw new Error(`the shared host cannot be built: ${missing}`);
  const www = webUser();
  if (!www) throw new Error('the shared host needs root (Apache hands requests to www-data)');
  const unlock = await lockCustomers();
  const deploy = await createDeployDir(prefix).catch((e: unknown) => {
    unlock();
    throw e;
  });
  const spaces: WebSpace[] = [];
  let apache: Apache | undefined;
  try {
    const [alice, bob] = CUSTOMER_NAMES.map((n) => new WebSpace(ensureCustomer(n)));
    spaces.push(alice!, bob!);
    const docRoot = deploy.mkdir('www');
    const ipc = deploy.mkdir('fcgid', www);
    const stockPort = await freePort();
    const suexecStart = fileSize(SUEXEC_LOG);
    apache = await startApache(deploy, {
      mpm: 'event',
      modules: MODULES,
      docRoot,
      user: www,
      extra: `# The customers' web space: /~name/ is /home/name/public_html, run as name by suEXEC.
UserDir public_html
UserDir disabled
UserDir enabled ${CUSTOMER_NAMES.join(' ')}
<Directory /home/*/public_html>
  AllowOverride ${ALLOW_OVERRIDE}
  Options ${OPTIONS}
  Require all granted
</Directory>
FcgidIPCDir ${ipc}
FcgidProcessTableFile ${join(ipc, 'shm')}
FcgidIOTimeout 30
# The same host with Debian's stock userdir.conf, for the "no ExecCGI" mistake.
Listen 127.0.0.1:${stockPort}
<VirtualHost 127.0.0.1:${stockPort}>
  DocumentRoot ${docRoot}
  ${DEBIAN_STOCK_USERDIR}
</VirtualHost>
${serverConfig}`,
    });
    const started = apache;
    return {
      apache: started,
      port: started.port,
      stockPort,
      alice: alice!,
      bob: bob!,
      deploy,
      errorLog: () => started.errorLog(),
      suexecLog: () => {
        try {
          return readFileSync(SUEXEC_LOG).subarray(suexecStart).toString('utf8');
        } catch {
          return '';
        }
      },
      async stop() {
        await started.stop();
        for (const s of spaces) s.cleanup();
        await deploy.remove();
        unlock();
      },
    };
  } catch (e) {
    await apache?.stop();
    for (const s of spaces) s.cleanup();
    await deploy.remove();
    unlock();
    throw e;
  }
}

/**
 * Runs `fcgi bundle <entry> <out> ...args` from the repository's build (several may run at once);
 * resolves with `out`.
 */
export function fcgiBundle(entry: string, out: string, ...args: string[]): Promise<string> {
  // suEXEC gives the script only its own PATH: name this Node on the first line when it is not there.
  const node = SUEXEC_SAFE_PATH.some((d) => process.execPath === join(d, 'node')) ? [] : ['--node', process.execPath];
  const cli = join(ROOT, 'packages/core/dist/cli.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, 'bundle', entry, out, ...node, ...args],
      { cwd: ROOT, timeout: 60_000 },
      (e, stdout, stderr) =>
        e ? reject(new Error(`fcgi bundle ${entry} failed (${e.code ?? e.signal}): ${stderr}${stdout}`)) : resolve(out),
    );
  });
}
