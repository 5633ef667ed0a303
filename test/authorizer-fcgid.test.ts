// The app as Apache mod_fcgid's FcgidAuthenticator and FcgidAuthorizer (the bundled fixture, spawned
// by mod_fcgid with roles ['responder', 'authorizer'] from FcgidInitialEnv) in front of a protected
// directory whose CGI script prints its environment: allowed requests reach the script with the
// app's Variable-* values as environment variables; refused ones never reach it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IN_CI, ROOT, skipUnless } from './helpers/app-process.js';
import { APACHE, hasApacheModule, startApache, type Apache } from './helpers/apache.js';
import { APP_PATH, checkNodeRunnableBy, createDeployDir, webUser, type DeployDir } from './helpers/deploy-app.js';
import { get } from './helpers/lifecycle.js';

const MODULES = ['fcgid', 'cgid', 'authn_core', 'authz_user'];
const ready = MODULES.every(hasApacheModule);
const skip = skipUnless(APACHE && ready ? APACHE : null, 'apache2 libapache2-mod-fcgid');

/** A CGI script that prints the variables an authorizer can set, and who Apache thinks the user is. */
const SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "AUTH_USER=\${AUTH_USER:-unset}"
echo "AUTH_VIA=\${AUTH_VIA:-unset}"
echo "REMOTE_USER=\${REMOTE_USER:-unset}"
`;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('FcgidAuthenticator + FcgidAuthorizer with the bundled app', { skip, timeout: 120_000 }, () => {
  let deploy: DeployDir | undefined;
  let apache: Apache | undefined;
  const user = webUser();

  before(
    async () => {
      if (IN_CI && !ready)
        throw new Error(`Apache modules missing: ${MODULES.filter((m) => !hasApacheModule(m)).join(', ')}`);
      checkNodeRunnableBy(user);
      deploy = await createDeployDir('fcgi-authz-fcgid-');
      const www = deploy.mkdir('www');
      const prot = deploy.mkdir('www/protected');
      const bin = deploy.mkdir('bin');
      const home = deploy.mkdir('home', user);
      const ipc = deploy.mkdir('fcgid', user);
      deploy.mkdir('cgid', user);
      const auth = join(bin, 'auth.fcgi');
      const r = spawnSync(process.execPath, ['scripts/bundle.mjs', 'test/fixtures/lifecycle-app.ts', auth], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`bundle failed: ${r.stderr}${r.stdout}`);
      writeFileSync(join(prot, 'env.cgi'), SCRIPT);
      chmodSync(join(prot, 'env.cgi'), 0o755);
      apache = await startApache(deploy, {
        mpm: 'event',
        modules: MODULES,
        docRoot: www,
        user,
        extra: `FcgidIPCDir ${ipc}
FcgidProcessTableFile ${join(ipc, 'shm')}
ScriptSock ${join(deploy.path, 'cgid', 'cgid.sock')}
FcgidInitialEnv PATH ${APP_PATH}
FcgidInitialEnv HOME ${home}
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
`,
      });
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      await apache?.stop();
      await deploy?.remove();
    },
    { timeout: 30_000 },
  );

  it('allowed by both: the CGI script runs and sees the Variable-* values as environment variables', {
    timeout: 30_000,
  }, async () => {
    const r = await get(apache!.port, '/protected/env.cgi', { Authorization: basic('bob', 'good'), 'X-Token': 'good' });
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
    const r = await get(apache!.port, '/protected/env.cgi', { Authorization: basic('bob', 'good') });
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.body.toString(), /AUTH_USER=|denied by the app/);
    assert.match(
      apache!.errorLog(),
      /Authorization of user bob to access \/protected\/env\.cgi failed, reason: script returned status 403/,
    );
  });

  it('refused by the authenticator (a wrong password): 401, the script does not run', { timeout: 30_000 }, async () => {
    const r = await get(apache!.port, '/protected/env.cgi', { Authorization: basic('bob', 'bad'), 'X-Token': 'good' });
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.body.toString(), /AUTH_USER=/);
    assert.match(
      apache!.errorLog(),
      /Authentication of user bob to access \/protected\/env\.cgi failed, reason: script returned status 403/,
    );
  });
});
