// Runs docs/deploy/apache-mod-cgi.md, the path of a root admin with Debian's Apache and CGI only
// (mod_cgid under the event MPM, no FastCGI module), command by command: see
// test/helpers/apache-doc-page.ts for how, and for the substitutions the page names.
import { apachePageTests } from './helpers/apache-doc-page.js';

apachePageTests({
  page: 'docs/deploy/apache-mod-cgi.md',
  module: 'cgid',
  pkg: 'apache2',
  appFile: 'app.cgi',
  logLines: [],
});
