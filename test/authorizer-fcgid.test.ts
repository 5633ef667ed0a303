// The app as Apache mod_fcgid's FcgidAuthenticator and FcgidAuthorizer (the bundled fixture, spawned
// by mod_fcgid with roles ['responder', 'authorizer'] from FcgidInitialEnv) in front of a protected
// directory whose CGI script prints its environment: allowed requests reach the script with the
// app's Variable-* values as environment variables; refused ones never reach it.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { bundleApp } from './helpers/deploy-app.js';
import { get } from './helpers/lifecycle.js';

const MODULES = ['fcgid', 'cgid', 'authn_core', 'authz_user'];
const skip = skipUnlessApache(MODULES, 'apache2 libapache2-mod-fcgid');

/** A CGI script that prints the variables an authorizer can set, and who Apache thinks the user is. */
const SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "AUTH_USER=\${AUTH_USER:-unset}"
echo "AUTH_VIA=\${AUTH_VIA:-unset}"
echo "REMOTE_USER=\${REMOTE_USER:-unset}"
`;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('FcgidAuthenticator + FcgidAuthorizer with the bundled app', { skip, timeout: 120_000 }, () => {
  const apache = apacheDeploy({
    prefix: 'fcgi-authz-fcgid-',
    mpm: 'event',
    modules: MODULES,
    fcgid: true,
    setup: ({ deploy, user }) => {
      const prot = deploy.mkdir('www/protected');
      const bin = deploy.mkdir('bin');
      deploy.mkdir('cgid', user);
      const auth = join(bin, 'auth.fcgi');
      bundleApp('test/fixtures/lifecycle-app.ts', auth);
      writeFileSync(join(prot, 'env.cgi'), SCRIPT);
      chmodSync(join(prot, 'env.cgi'), 0o755);
      return `ScriptSock ${join(deploy.path, 'cgid', 'cgid.sock')}
FcgidInitialEnv LIFECYCLE_APP_OPTIONS {"roles":["responder","authorizer"]}
<Directory ${prot}>
  Options +ExecCGI
  AddHandler cgi-script .cgi
  AuthType Basic
  AuthName "fcgi authorizer test"
  FcgidAuthenticator ${auth}
  FcgidAuthorizer ${auth}
  Require valid-user
</Directory>
`;
    },
    startTimeout: 90_000,
  });

  it('allowed by both: the CGI script runs and sees the Variable-* values as environment variables', {
    timeout: 30_000,
  }, async () => {
    const r = await get(apache.port, '/protected/env.cgi', { Authorization: basic('bob', 'good'), 'X-Token': 'good' });
    assert.equal(r.status, 200, r.body.toString());
    const text = r.body.toString();
    // Both phases ran and both set the variables: mod_fcgid joins the two values with ", ".
    assert.match(text, /^AUTH_VIA=AUTHENTICATOR, AUTHORIZER$/m);
    assert.match(text, /^AUTH_USER=alice, alice$/m);
    assert.match(text, /^REMOTE_USER=bob$/m);
    // mod_fcgid also leaves them in the response to the client (docs/deploy/lifecycle.md warns).
    assert.equal(r.headers['variable-auth_via'], 'AUTHENTICATOR, AUTHORIZER');
  });

  it('refused by the authorizer (no X-Token): mod_fcgid answers 401 itself; the script does not run', {
    timeout: 30_000,
  }, async () => {
    const r = await get(apache.port, '/protected/env.cgi', { Authorization: basic('bob', 'good') });
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.body.toString(), /AUTH_USER=|denied by the app/);
    assert.match(
      apache.errorLog(),
      /Authorization of user bob to access \/protected\/env\.cgi failed, reason: script returned status 403/,
    );
  });

  it('refused by the authenticator (a wrong password): 401, the script does not run', { timeout: 30_000 }, async () => {
    const r = await get(apache.port, '/protected/env.cgi', { Authorization: basic('bob', 'bad'), 'X-Token': 'good' });
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.body.toString(), /AUTH_USER=/);
    assert.match(
      apache.errorLog(),
      /Authentication of user bob to access \/protected\/env\.cgi failed, reason: script returned status 403/,
    );
  });
});
