// X-Sendfile through a real lighttpd (Debian's package, mod_fastcgi with "x-sendfile" => "enable"):
// the app names the file's path, lighttpd sends it and does Range; the validators are the app's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { skipUnless } from './helpers/app-process.js';
import { webUser } from './helpers/deploy-app.js';
import { LIGHTTPD, startLighttpd } from './helpers/lighttpd.js';
import { fetchRaw } from './helpers/nginx.js';
import {
  makeOffloadTree,
  offloadChecks,
  startOffloadApp,
  type OffloadApp,
  type OffloadTree,
} from './helpers/offload-checks.js';
import { serverDeploy } from './helpers/server-deploy.js';

const skip = skipUnless(LIGHTTPD, 'lighttpd');

describe('sendfile offload: lighttpd X-Sendfile', { skip, timeout: 120_000 }, () => {
  let tree: OffloadTree;
  let app: OffloadApp | undefined;
  const site = serverDeploy({
    prefix: 'fcgi-offload-lighttpd-',
    start: async (deploy) => {
      tree = await makeOffloadTree(deploy);
      app = await startOffloadApp(deploy, tree, { header: 'X-Sendfile', map: { [tree.files]: tree.files } });
      // The block of docs/sendfile-offload.md: x-sendfile-docroot limits what the header may name.
      return startLighttpd(deploy, {
        docRoot: deploy.mkdir('www'),
        user: webUser(),
        extra: `fastcgi.server = ( "/" => ((
  "socket" => "${app.socket}",
  "check-local" => "disable",
  "fix-root-scriptname" => "enable",
  "x-sendfile" => "enable",
  "x-sendfile-docroot" => ( "${tree.files}/" ),
)))
`,
      });
    },
    cleanup: () => app?.stop(),
  });

  offloadChecks({ port: () => site.server.port, app: () => app!, tree: () => tree });

  it("lighttpd keeps the app's ETag, honours If-Range with it, and sends one Accept-Ranges", {
    timeout: 30_000,
  }, async () => {
    const head = await fetchRaw(site.server.port, '/files/big.bin', { method: 'HEAD' });
    assert.match(head.headers.etag!, /^W\/"[0-9a-f]+-[0-9a-f]+"$/); // the app's default weak tag
    assert.equal(head.headers['accept-ranges'], 'bytes');
    // A weak tag never matches If-Range (RFC 9110 13.1.5): the whole file, as the app itself would do.
    const r = await fetchRaw(site.server.port, '/files/big.bin', {
      headers: { range: 'bytes=0-9', 'if-range': head.headers.etag! },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, tree.big.length);
    assert.doesNotMatch(
      site.server.errorLog(),
      /X-Sendfile|not a regular file|not under configured/,
      site.server.errorLog(),
    );
  });
});
