// X-Sendfile through a real Apache 2.4 with mod_proxy_fcgi and mod_xsendfile (Debian's
// libapache2-mod-xsendfile): the app names the file's path, Apache sends it and does Range.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APACHE, hasApacheModule, startApache, type Apache } from './helpers/apache.js';
import { createDeployDir, webUser, type DeployDir } from './helpers/deploy-app.js';
import { fetchRaw } from './helpers/nginx.js';
import {
  makeOffloadTree,
  offloadChecks,
  startOffloadApp,
  type OffloadApp,
  type OffloadTree,
} from './helpers/offload-checks.js';

const missing = !APACHE
  ? 'apache2'
  : !hasApacheModule('proxy_fcgi')
    ? 'apache2 (mod_proxy_fcgi)'
    : !hasApacheModule('xsendfile')
      ? 'libapache2-mod-xsendfile'
      : null;
const skip = missing ? `${missing} is not installed (apt-get install ${missing.split(' ')[0]})` : false;

describe('sendfile offload: Apache mod_xsendfile', { skip, timeout: 120_000 }, () => {
  let deploy: DeployDir | undefined;
  let tree: OffloadTree;
  let app: OffloadApp | undefined;
  let apache: Apache | undefined;

  before(
    async () => {
      deploy = await createDeployDir('fcgi-offload-apache-');
      tree = await makeOffloadTree(deploy);
      app = await startOffloadApp(deploy, tree, { header: 'X-Sendfile', map: { [tree.files]: tree.files } });
      // The configuration of docs/sendfile-offload.md.
      apache = await startApache(deploy, {
        mpm: 'event',
        modules: ['proxy', 'proxy_fcgi', 'xsendfile'],
        docRoot: deploy.mkdir('www'),
        user: webUser(),
        extra: `ProxyPass "/" "unix:${app.socket}|fcgi://localhost/"
<Location "/">
  Require all granted
</Location>
XSendFile On
XSendFilePath ${tree.files}
`,
      });
    },
    { timeout: 60_000 },
  );

  after(
    async () => {
      await apache?.stop();
      await app?.stop();
      await deploy?.remove();
    },
    { timeout: 30_000 },
  );

  offloadChecks({ port: () => apache!.port, app: () => app!, tree: () => tree });

  it('mod_xsendfile keeps the app\'s ETag (without one it would send ETag "0" behind a proxy)', {
    timeout: 30_000,
  }, async () => {
    const head = await fetchRaw(apache!.port, '/files/big.bin', { method: 'HEAD' });
    assert.match(head.headers.etag!, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(head.headers['accept-ranges'], 'bytes');
    assert.doesNotMatch(apache!.errorLog(), /xsendfile:/, apache!.errorLog());
  });
});
