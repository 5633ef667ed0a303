// The common upload mistakes on the shared host (issue 14): each set up by uploadWithMistake() as a
// customer would make it, for the tests of what the web server shows (test/deploy-shared-host.test.ts),
// of the fixes docs/deploy/shared-hosting.md gives, and of `fcgi doctor`'s findings; visit() is a
// visitor's request to one, waiting as long as mod_fcgid may take to answer.
import { readFileSync } from 'node:fs';
import type { WebSpace } from './customers.js';
import { fetchRaw } from './nginx.js';
import { FCGID_GIVE_UP_MS, type SharedHost } from './shared-host.js';

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
  /** Bundled with `--node` naming the Node of the customer's own machine (NODE_NOT_ON_HOST): the host has none there. */
  'node-not-on-host',
  /** Debian's stock userdir.conf (no Options in AllowOverride): the .htaccess's `Options +ExecCGI` is refused. */
  'stock-userdir-options',
  /** The same host with that line dropped from .htaccess, as the old docs advised: ExecCGI stays off. */
  'stock-userdir-no-options',
  /** fcgi.env beside the app left at 644, as an upload leaves it: the app refuses to start. */
  'env-file-readable',
] as const;
export type UploadMistake = (typeof UPLOAD_MISTAKES)[number];

/**
 * The mistakes whose process exits within milliseconds of its start (suEXEC refuses the file, or
 * env finds no `node\r`). mod_fcgid connects to the process it started: in time, the visitor gets
 * the 500 at once ("End of script output before headers"); once it is gone, mod_fcgid sleeps 1 s
 * and starts another, and after 32 rounds answers 503 instead (FCGID_GIVE_UP_MS).
 */
export const DIES_AT_START: ReadonlySet<UploadMistake> = new Set<UploadMistake>([
  'no-exec-bit',
  'group-writable-file',
  'group-writable-dir',
  'crlf-line-ends',
  'node-not-on-host',
]);

/** The first line of the node-not-on-host upload: nvm's Node on a Mac, which no Debian host has. */
export const NODE_NOT_ON_HOST = '/Users/me/.nvm/versions/node/v20.19.0/bin/node';

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
  if (kind === 'node-not-on-host')
    code = Buffer.from(code.toString('latin1').replace(/^#!.*/, `#!${NODE_NOT_ON_HOST}`), 'latin1');
  const mode = kind === 'no-exec-bit' ? 0o644 : kind === 'group-writable-file' ? 0o775 : 0o755;
  const file = space.upload(`${rel}/app.fcgi`, code, mode);
  const text = kind === 'stock-userdir-no-options' ? htaccess.replace(/^Options .*\n/m, '') : htaccess;
  space.upload(`${rel}/.htaccess`, text);
  if (kind === 'env-file-readable') space.upload(`${rel}/fcgi.env`, 'GREETING=Welcome\n', 0o644);
  const port = kind.startsWith('stock-userdir') ? host.stockPort : host.port;
  return { kind, dir, file, port, url: space.url(`${rel}/`) };
}

/** What a visitor got from a broken upload. */
export interface Visit {
  status: number;
  body: string;
  /** How long the answer took. */
  ms: number;
  /** mod_fcgid gave up: 503, and "can't apply process slot" for this upload's app.fcgi in the log. */
  gaveUp: boolean;
}

/**
 * A visitor's GET of the broken upload `m`, waiting as long as mod_fcgid may take to answer for an
 * app that DIES_AT_START (FCGID_GIVE_UP_MS).
 */
export async function visit(host: SharedHost, m: MistakeUpload): Promise<Visit> {
  const from = host.errorLog().length;
  const start = performance.now();
  const r = await fetchRaw(m.port, m.url, { timeoutMs: FCGID_GIVE_UP_MS });
  const ms = Math.round(performance.now() - start);
  const log = host.errorLog().slice(from);
  const gaveUp = r.status === 503 && log.includes(`mod_fcgid: can't apply process slot for ${m.file}`);
  return { status: r.status, body: r.body.toString(), ms, gaveUp };
}

/**
 * True when `v` is the failure a visitor meets for mistake `kind`: the answer `status`, or, for a
 * mistake that DIES_AT_START, mod_fcgid's 503 after it gave up.
 */
export function failsAsExpected(v: Visit, kind: UploadMistake, status: number): boolean {
  return v.status === status || (v.gaveUp && DIES_AT_START.has(kind));
}
