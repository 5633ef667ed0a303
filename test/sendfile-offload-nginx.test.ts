// X-Accel-Redirect through a real nginx (Debian's package): the app maps the file into an
// `internal` location and nginx sends it (sendfile on), with Range and conditionals its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipUnless } from './helpers/app-process.js';
import { createDeployDir, type DeployDir } from './helpers/deploy-app.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';
import {
  makeOffloadTree,
  offloadChecks,
  startOffloadApp,
  type OffloadApp,
  type OffloadTree,
} from './helpers/offload-checks.js';

const skip = skipUnless(NGINX, 'nginx');

describe('sendfile offload: nginx X-Accel-Redirect', { skip, timeout: 120_000 }, () => {
  let deploy: DeployDir | undefined;
  let tree: OffloadTree;
  let app: OffloadApp | undefined;
  let nginx: Nginx | undefined;

  before(
    async () => {
      deploy = await createDeployDir('fcgi-offload-nginx-');
      tree = await makeOffloadTree(deploy);
      app = await startOffloadApp(deploy, tree, { header: 'X-Accel-Redirect', map: { [tree.files]: '/_protected/' } });
      // The location of docs/sendfile-offload.md.
      nginx = await startNginx(app.socket, {
        locations: `    location /_protected/ {
      internal;
      alias ${tree.files}/;
      sendfile on;
    }
`,
      });
    },
    { timeout: 60_000 },
  );

  after(
    async () => {
      await nginx?.stop();
      await app?.stop();
      await deploy?.remove();
    },
    { timeout: 30_000 },
  );

  offloadChecks({
    port: () => nginx!.port,
    app: () => app!,
    tree: () => tree,
    // `internal`: the location answers only X-Accel-Redirect, never a client.
    refusedByServer: ['/_protected/big.bin', '/_protected/.secret', '/_protected/../outside/secret.txt'],
  });

  it('nginx answers with its own validators (the app sends none): If-Range with its ETag works', {
    timeout: 30_000,
  }, async () => {
    const first = await fetchRaw(nginx!.port, '/files/big.bin', { method: 'HEAD' });
    const etag = first.headers.etag!;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(first.headers['accept-ranges'], 'bytes'); // one, nginx's
    const r = await fetchRaw(nginx!.port, '/files/big.bin', { headers: { range: 'bytes=0-9', 'if-range': etag } });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, tree.big.subarray(0, 10));
    // No X-Accel-Redirect led nginx to a file it could not open (the app's own 403s are logged as its stderr).
    assert.doesNotMatch(nginx!.errorLog(), /open\(\) .* failed|upstream (sent|prematurely)|\[(crit|alert|emerg)\]/);
  });
});
