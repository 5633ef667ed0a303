// The .htaccess that `fcgi bundle --htaccess` writes beside the bundle: the handler for the file's
// extension, ExecCGI, fcgi.env refused to visitors, and every path that is not a file rewritten to the app.
import { BundleError } from './errors.js';

const HANDLERS: Readonly<Record<string, string>> = { '.fcgi': 'fcgid-script', '.cgi': 'cgi-script' };

/** The .htaccess for an app file named `name` (app.fcgi: mod_fcgid; app.cgi: mod_cgi). */
export function htaccessFor(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot) : '';
  const handler = HANDLERS[ext];
  if (handler === undefined) {
    throw new BundleError(
      `--htaccess maps a handler by file extension, and ${JSON.stringify(name)} ends in neither .fcgi nor .cgi`,
      'name the output app.fcgi (Apache mod_fcgid) or app.cgi (plain CGI)',
    );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new BundleError(
      `${JSON.stringify(name)} cannot be named in a RewriteRule as it is`,
      'use only letters, digits, ".", "_" and "-" in the output file name',
    );
  }
  return [
    `AddHandler ${handler} ${ext}`,
    'Options +ExecCGI',
    'RewriteEngine On',
    // The app's settings (fcgi.env) are never served. A RewriteRule needs only AllowOverride
    // FileInfo, as the rest of this file; <Files> with Require would need AuthConfig too.
    'RewriteRule ^fcgi\\.env$ - [F]',
    'RewriteCond %{REQUEST_FILENAME} !-f',
    `RewriteRule ^(.*)$ ${name}/$1 [L,QSA]`,
    '',
  ].join('\n');
}
