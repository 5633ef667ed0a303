// The common upload mistakes on the shared host (issue 14): each set up by uploadWithMistake() as a
// customer would make it, for the tests of what the web server shows (test/deploy-shared-host.test.ts),
// of the fixes docs/deploy/shared-hosting.md gives, and of `fcgi doctor`'s findings.
import { readFileSync } from 'node:fs';
import type { WebSpace } from './customers.js';
import type { SharedHost } from './shared-host.js';

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
