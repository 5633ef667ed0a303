// X-Accel-Redirect through a real nginx (Debian's package): the app maps the file into an
// `internal` location and nginx sends it (sendfile on), with Range and conditionals its own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { skipUnless } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx } from './helpers/nginx.js';
import {
  makeOffloadTree,
  offloadChecks,
  startOffloadApp,
  type OffloadApp,
  type OffloadTree,
} from './helpers/offload-checks.js';
import { serverDeploy } from './helpers/server-deploy.js';

const skip = skipUnless(NGINX, 'nginx');

describe('sendfile offload: nginx X-Accel-Redirect', { skip, timeout: 120_000 }, () => {
  let tree: OffloadTree;
  let app: OffloadApp | undefined;
  const site = serverDeploy({
    prefix: 'fcgi-offload-nginx-',
    start: async (deploy) => {
      tree = await makeOffloadTree(deploy);
      app = await startOffloadApp(deploy, tree, { header: 'X-Accel-Redirect', map: { [tree.files]: '/_protected/' } });
      // The location of docs/sendfile-offload.md.
      return startNginx(app.socket, {
        locations: `    location /_protected/ {
      internal;
      alias ${tree.files}/;
      sendfile on;
    }
`,
      });
    },
    cleanup: () => app?.stop(),
  });

  offloadChecks({
    port: () => site.server.port,
    app: () => app!,
    tree: () => tree,
    // `internal`: the location answers only X-Accel-Redirect, never a client.
    refusedByServer: ['/_protected/big.bin', '/_protected/.secret', '/_protected/../outside/secret.txt'],
  });

  it('nginx answers with its own validators (the app sends none): If-Range with its ETag works', {
    timeout: 30_000,
  }, async () => {
    const first = await fetchRaw(site.server.port, '/files/big.bin', { method: 'HEAD' });
    const etag = first.headers.etag!;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(first.headers['accept-ranges'], 'bytes'); // one, nginx's
    const r = await fetchRaw(site.server.port, '/files/big.bin', { headers: { range: 'bytes=0-9', 'if-range': etag } });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, tree.big.subarray(0, 10));
    // No X-Accel-Redirect led nginx to a file it could not open (the app's own 403s are logged as its stderr).
    assert.doesNotMatch(
      site.server.errorLog(),
      /open\(\) .* failed|upstream (sent|prematurely)|\[(crit|alert|emerg)\]/,
    );
  });
});
