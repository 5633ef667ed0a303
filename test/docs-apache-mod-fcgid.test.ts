// Runs docs/deploy/apache-mod-fcgid.md, the path of a root admin with Debian's Apache + mod_fcgid
// (no suEXEC, the app runs as www-data), command by command: see test/helpers/apache-doc-page.ts for
// how, and for the substitutions the page names.
import { apachePageTests } from './helpers/apache-doc-page.js';

apachePageTests({
  page: 'docs/deploy/apache-mod-fcgid.md',
  module: 'fcgid',
  pkg: 'apache2 libapache2-mod-fcgid',
  appFile: 'app.fcgi',
  logLines: [/restart\.txt was touched/, /app\.fcgi was replaced/],
});
