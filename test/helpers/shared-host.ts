// A cPanel/DirectAdmin-like shared host on loopback, built from Debian packages: Apache 2.4 (event
// MPM) started as root, handing requests to www-data, with mod_userdir, mod_rewrite, mod_fcgid,
// mod_cgid and apache2-suexec-pristine, so each customer's scripts under /home/<name>/public_html
// run as that customer; AllowOverride limited as those hosts set it. Two customers are Unix users
// (made with useradd when absent). What the tests upload into their homes is removed afterwards.
// The common upload mistakes are set up by uploadWithMistake(), for the tests of the web server's
// symptoms and of `fcgi doctor` alike.
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_CI, ROOT } from './app-process.js';
import { APACHE, hasApacheModule, startApache, type Apache } from './apache.js';
import { createDeployDir, webUser, type DeployDir, type RunAs } from './deploy-app.js';
import { freePort } from './nginx.js';

/** Debian's suEXEC wrapper (apache2-suexec-pristine): docroot /var/www, userdir public_html. */
export const SUEXEC = '/usr/lib/apache2/suexec';
/** Where that suexec writes why it refused (compiled in: AP_LOG_EXEC; only root can read it). */
export const SUEXEC_LOG = '/var/log/apache2/suexec.log';
/** suEXEC's compiled-in PATH (AP_SAFE_PATH): the only PATH a customer's script gets. */
export const SUEXEC_SAFE_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];
/** The customers of the host: Unix users with their own homes under /home. */
export const CUSTOMER_NAMES = ['fcgialice', 'fcgibob'] as const;
export type CustomerName = (typeof CUSTOMER_NAMES)[number];

/** The Apache modules the host loads besides the MPM, authz_core and mime. */
const MODULES = ['rewrite', 'userdir', 'suexec', 'fcgid', 'cgid', 'dir', 'env', 'alias'];

/**
 * The AllowOverride of the customers' web space. DirectAdmin's httpd-directories config allows
 * these classes and, of Options, only this list (no FollowSymLinks, no All); cPanel's
 * "AllowOverride" hardening is alike. Options itself is Debian's userdir.conf (no ExecCGI): the
 * .htaccess that `fcgi bundle --htaccess` writes must turn ExecCGI on, and may.
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

export interface Customer extends RunAs {
  home: string;
  publicHtml: string;
}

function passwdEntry(name: string): Customer | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid, , home] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home!, publicHtml: join(home!, 'public_html') };
}

/**
 * The customer `name`, made with useradd when absent: home /home/<name>, its own group, a shell
 * (for ssh) and the password '*' (no password login, but not "locked", so sshd's key login works).
 * The home gets mode 711, as cPanel and DirectAdmin set it: Apache may pass through, not list.
 */
export function ensureCustomer(name: CustomerName): Customer {
  if (!passwdEntry(name)) {
    const r = spawnSync(
      'useradd',
      [
        '--create-home',
        '--home-dir',
        `/home/${name}`,
        '--shell',
        '/bin/sh',
        '--password',
        '*',
        '--comment',
        '@fcgi test customer',
        name,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (r.status !== 0) throw new Error(`useradd ${name} failed: ${r.stderr}${r.error?.message ?? ''}`);
  }
  const c = passwdEntry(name)!;
  if (c.uid < 1000)
    throw new Error(
      `${name} has uid ${c.uid}: suEXEC runs scripts only for uid >= 100, and a test customer should be a normal user`,
    );
  chmodSync(c.home, 0o711);
  return c;
}

/**
 * A customer's web space as the tests use it: uploads owned by the customer with the modes an
 * FTP/SFTP client leaves (files 644, directories 755) unless told otherwise; everything made here
 * is removed by cleanup() (public_html too when it was made here).
 */
export class WebSpace {
  readonly customer: Customer;
  readonly #made: string[] = [];

  /** What public_html held before (null: it did not exist); anything else is removed by cleanup(). */
  readonly #before: ReadonlySet<string> | null;

  constructor(customer: Customer) {
    this.customer = customer;
    this.#before = existsSync(customer.publicHtml) ? new Set(readdirSync(customer.publicHtml)) : null;
    if (!this.#before) this.mkdir('');
  }

  /** The absolute path of `rel` inside public_html. */
  path(rel: string): string {
    return join(this.customer.publicHtml, rel);
  }

  /** The URL path of `rel` inside public_html: /~name/rel. */
  url(rel = ''): string {
    return `/~${this.customer.name}/${rel}`;
  }

  #own(p: string, mode: number): void {
    if (!this.#made.includes(p)) this.#made.push(p);
    chownSync(p, this.customer.uid, this.customer.gid);
    chmodSync(p, mode);
  }

  /** Makes public_html/`rel` (and parents) owned by the customer, mode 755 unless told otherwise. */
  mkdir(rel: string, mode = 0o755): string {
    const parts = rel.split('/').filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const p = this.path(parts.slice(0, i).join('/'));
      if (existsSync(p) && statSync(p).isDirectory()) {
        if (i === parts.length) this.#own(p, mode);
        continue;
      }
      mkdirSync(p);
      this.#own(p, i === parts.length ? mode : 0o755);
    }
    return this.path(rel);
  }

  /**
   * Writes `content` to public_html/`rel`, owned by the customer, as a new file renamed over the
   * old one: mod_fcgid knows a script by its inode and keeps the processes of a file overwritten in
   * place (or removed and written again, when the inode number is reused at once).
   */
  upload(rel: string, content: Buffer | string, mode = 0o644): string {
    const p = this.path(rel);
    const tmp = `${p}.uploading`;
    writeFileSync(tmp, content);
    chownSync(tmp, this.customer.uid, this.customer.gid);
    chmodSync(tmp, mode);
    renameSync(tmp, p);
    this.#own(p, mode);
    return p;
  }

  /** Copies the file at `from` to public_html/`rel` (see upload()). */
  uploadFile(rel: string, from: string, mode = 0o644): string {
    return this.upload(rel, readFileSync(from), mode);
  }

  /**
   * Removes everything made here, newest first, and whatever else appeared in public_html since
   * (files a test uploaded over ssh); public_html itself when it did not exist before.
   */
  cleanup(): void {
    for (const p of this.#made.splice(0).reverse()) rmSync(p, { recursive: true, force: true });
    if (!this.#before || !existsSync(this.customer.publicHtml)) return;
    for (const name of readdirSync(this.customer.publicHtml)) {
      if (!this.#before.has(name)) rmSync(this.path(name), { recursive: true, force: true });
    }
  }
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
 * The customers' homes are one per machine, and test files run two at a time: one host at a time
 * holds them. The lock is a directory holding the holder's pid; a dead holder's lock is taken over.
 */
const LOCK = join(tmpdir(), 'fcgi-shared-host.lock');
const LOCK_WAIT_MS = 150_000;

function lockHolder(): number | null {
  try {
    return Number(readFileSync(join(LOCK, 'pid'), 'utf8')) || null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockCustomers(): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK, { mode: 0o700 });
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = lockHolder();
    // No pid yet: the holder is between mkdir and write; a dead pid: a test run that was killed.
    const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (holder !== null ? !pidAlive(holder) : age > 10_000) rmSync(LOCK, { recursive: true, force: true });
    else if (Date.now() > deadline) {
      throw new Error(`another shared-host test (pid ${holder}) held ${LOCK} for ${LOCK_WAIT_MS / 1000} s`);
    } else await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Builds and starts the host (waiting while another test file has it); throws with the reason
 * when a package is missing.
 */
export async function startSharedHost(prefix = 'fcgi-shared-host-'): Promise<SharedHost> {
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
`,
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

/** The common upload mistakes on this host (issue 14), each in its own directory. */
export const UPLOAD_MISTAKES = [
  /** app.fcgi left at 644, as an FTP/SFTP upload leaves it: no chmod 755. */
  'no-exec-bit',
  /** app.fcgi at 664 (a umask 002 client, or chmod 775): suEXEC refuses group-writable files. */
  'group-writable-file',
  /** The directory holding app.fcgi at 775: suEXEC refuses group-writable directories. */
  'group-writable-dir',
  /** Uploaded in ASCII mode from Windows: CRLF line ends, the first line reads `node\r`. */
  'crlf-line-ends',
  /** Debian's stock userdir.conf (no Options in AllowOverride): the .htaccess's `Options +ExecCGI` is refused. */
  'stock-userdir-options',
  /** The same host with that line dropped from .htaccess, as the old docs advised: ExecCGI stays off. */
  'stock-userdir-no-options',
] as const;
export type UploadMistake = (typeof UPLOAD_MISTAKES)[number];

export interface MistakeUpload {
  kind: UploadMistake;
  /** The directory holding the app and its .htaccess (absolute). */
  dir: string;
  /** The app file (absolute). */
  file: string;
  /** The port whose Apache shows the mistake (the stock-userdir ones use stockPort). */
  port: number;
  /** The URL path of the app's directory (/~name/mistake-kind/). */
  url: string;
}

/**
 * Uploads the app bundle `app` (an app.fcgi from fcgiBundle, and its `.htaccess` text) to
 * public_html/`rel` (default mistake-<kind>/) of `space` with the mistake `kind`, everything else
 * right. The stock-userdir mistakes show only when no .htaccess above `rel` sets Options (Apache
 * refuses that one first).
 */
export function uploadWithMistake(
  host: SharedHost,
  space: WebSpace,
  kind: UploadMistake,
  app: string,
  htaccess: string,
  rel = `mistake-${kind}`,
): MistakeUpload {
  const dir = space.mkdir(rel, kind === 'group-writable-dir' ? 0o775 : 0o755);
  let code = readFileSync(app);
  if (kind === 'crlf-line-ends') code = Buffer.from(code.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  const mode = kind === 'no-exec-bit' ? 0o644 : kind === 'group-writable-file' ? 0o775 : 0o755;
  const file = space.upload(`${rel}/app.fcgi`, code, mode);
  const text = kind === 'stock-userdir-no-options' ? htaccess.replace(/^Options .*\n/m, '') : htaccess;
  space.upload(`${rel}/.htaccess`, text);
  const port = kind.startsWith('stock-userdir') ? host.stockPort : host.port;
  return { kind, dir, file, port, url: space.url(`${rel}/`) };
}
