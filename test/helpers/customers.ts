// The shared host's customers (test/helpers/shared-host.ts): Unix users with homes under /home,
// made with useradd when absent, their public_html as the tests upload into it (owner, modes, a
// rename into place) and clean it afterwards; one test file at a time holds them (a lock).
import { spawnSync } from 'node:child_process';
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
import type { RunAs } from './deploy-app.js';

/** The customers of the host: Unix users with their own homes under /home. */
export const CUSTOMER_NAMES = ['fcgialice', 'fcgibob'] as const;
export type CustomerName = (typeof CUSTOMER_NAMES)[number];

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

export async function lockCustomers(): Promise<() => void> {
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
