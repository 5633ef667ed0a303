// The app as a generic FastCGI Authorizer (one phase, authentication and authorization together)
// behind Apache's mod_authnz_fcgi, which follows the spec on refusals: the app's status, headers
// and body go to the client. Allowed requests reach a CGI script with the app's Variable-* values
// as environment variables, and the user it named as REMOTE_USER.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { get, startAppChild, type AppChild } from './helpers/lifecycle.js';
import { freePort } from './helpers/nginx.js';

const MODULES = ['authnz_fcgi', 'authn_core', 'cgid'];
const skip = skipUnlessApache(MODULES, 'apache2');

const SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "AUTH_USER=\${AUTH_USER:-unset}"
echo "AUTH_VIA=\${AUTH_VIA:-unset}"
echo "REMOTE_USER=\${REMOTE_USER:-unset}"
`;

describe('a generic Authorizer behind mod_authnz_fcgi', { skip, timeout: 90_000 }, () => {
  let app: AppChild | undefined;
  const apache = apacheDeploy({
    prefix: 'fcgi-authnz-fcgi-',
    mpm: 'event',
    modules: MODULES,
    // The app is ours, on TCP; Apache runs only the shell script as the web user.
    appAsWebUser: false,
    setup: async ({ deploy, user }) => {
      const port = await freePort();
      app = await startAppChild({ listen: `127.0.0.1:${port}`, options: { roles: ['authorizer'] } });
      const prot = deploy.mkdir('www/protected');
      deploy.mkdir('cgid', user);
      writeFileSync(join(prot, 'env.cgi'), SCRIPT);
      chmodSync(join(prot, 'env.cgi'), 0o755);
      return `ScriptSock ${join(deploy.path, 'cgid', 'cgid.sock')}
AuthnzFcgiDefineProvider authnz AppAuthz fcgi://127.0.0.1:${port}/
<Directory ${prot}>
  Options +ExecCGI
  AddHandler cgi-script .cgi
  AuthType AppToken
  AuthName "fcgi authorizer test"
  AuthnzFcgiCheckAuthnProvider AppAuthz Authoritative On RequireBasicAuth Off UserExpr "%{reqenv:AUTH_USER}"
  Require AppAuthz
</Directory>
`;
    },
    cleanup: () => app?.kill(),
  });

  it('allowed: the CGI script runs with the Variable-* values and the user the app named', {
    timeout: 20_000,
  }, async () => {
    const r = await get(apache.port, '/protected/env.cgi', { 'X-Token': 'good' });
    assert.equal(r.status, 200, `${r.body}${apache.errorLog()}`);
    const text = r.body.toString();
    assert.match(text, /^AUTH_USER=alice$/m);
    assert.match(text, /^AUTH_VIA=AUTHENTICATOR$/m, 'mod_authnz_fcgi names the phase in FCGI_APACHE_ROLE');
    assert.match(text, /^REMOTE_USER=alice$/m);
  });

  it("refused: the client gets the app's own status and body; the script does not run", {
    timeout: 20_000,
  }, async () => {
    const r = await get(apache.port, '/protected/env.cgi', { 'X-Token': 'bad' });
    assert.equal(r.status, 403);
    assert.equal(r.body.toString(), 'denied by the app\n');
  });
});
