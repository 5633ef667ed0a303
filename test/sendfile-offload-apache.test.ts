// X-Sendfile through a real Apache 2.4 with mod_proxy_fcgi and mod_xsendfile (Debian's
// libapache2-mod-xsendfile): the app names the file's path, Apache sends it and does Range.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { fetchRaw } from './helpers/nginx.js';
import {
  makeOffloadTree,
  offloadChecks,
  startOffloadApp,
  type OffloadApp,
  type OffloadTree,
} from './helpers/offload-checks.js';

const skip = skipUnlessApache(['proxy_fcgi', 'xsendfile'], 'apache2 libapache2-mod-xsendfile');

describe('sendfile offload: Apache mod_xsendfile', { skip, timeout: 120_000 }, () => {
  let tree: OffloadTree;
  let app: OffloadApp | undefined;
  const apache = apacheDeploy({
    prefix: 'fcgi-offload-apache-',
    mpm: 'event',
    modules: ['proxy', 'proxy_fcgi', 'xsendfile'],
    // The app is ours (node through tsx); Apache only reads the files as the web user.
    appAsWebUser: false,
    setup: async ({ deploy }) => {
      tree = await makeOffloadTree(deploy);
      app = await startOffloadApp(deploy, tree, { header: 'X-Sendfile', map: { [tree.files]: tree.files } });
      // The configuration of docs/sendfile-offload.md.
      return `ProxyPass "/" "unix:${app.socket}|fcgi://localhost/"
<Location "/">
  Require all granted
</Location>
XSendFile On
XSendFilePath ${tree.files}
`;
    },
    cleanup: () => app?.stop(),
  });

  offloadChecks({ port: () => apache.port, app: () => app!, tree: () => tree });

  it('mod_xsendfile keeps the app\'s ETag (without one it would send ETag "0" behind a proxy)', {
    timeout: 30_000,
  }, async () => {
    const head = await fetchRaw(apache.port, '/files/big.bin', { method: 'HEAD' });
    assert.match(head.headers.etag!, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(head.headers['accept-ranges'], 'bytes');
    assert.doesNotMatch(apache.errorLog(), /xsendfile:/, apache.errorLog());
  });
});
