// The shared-hosting deployment: Apache 2.4 + mod_fcgid spawning the bundled matrix app
// (scripts/bundle.mjs -> app.fcgi) from an .htaccess, as www-data, at / and under /sub/, exactly as
// docs/deploy/apache-mod-fcgid.md tells a user to set it up.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { FCGID_HTACCESS, installCopy } from './helpers/deploy-app.js';
import { matrixTests } from './helpers/deploy-matrix.js';
import { fetchRaw, freePort } from './helpers/nginx.js';

const skip = skipUnlessApache(['fcgid'], 'apache2 libapache2-mod-fcgid');

describe('Apache mod_fcgid spawning the bundled app from .htaccess', { skip, timeout: 90_000 }, () => {
  let smallPort = 0;
  const apache = apacheDeploy({
    prefix: 'fcgi-deploy-fcgid-',
    mpm: 'event',
    modules: ['rewrite', 'fcgid', 'dir'],
    fcgid: true,
    // The .htaccess of docs/deploy/apache-mod-fcgid.md: every path that is not a file goes to app.fcgi.
    app: { entry: 'test/fixtures/matrix-app.ts', file: 'app.fcgi', htaccess: FCGID_HTACCESS },
    setup: async ({ deploy, www }) => {
      smallPort = await freePort();
      // The same app and .htaccess in more directories; plain/ without the rewrite.
      for (const sub of ['sub', 'restart', 'plain', '~x']) {
        deploy.mkdir(`www/${sub}`);
        installCopy(join(www, 'app.fcgi'), join(www, sub, 'app.fcgi'));
        writeFileSync(
          join(www, sub, '.htaccess'),
          sub === 'plain'
            ? 'AddHandler fcgid-script .fcgi\nOptions +ExecCGI\nDirectoryIndex app.fcgi\nRewriteEngine Off\n'
            : FCGID_HTACCESS,
        );
      }
      // Server-wide part (a host's panel sets these): besides where mod_fcgid keeps its sockets and
      // the child's environment (only PATH and HOME reach it), which `fcgid: true` writes, the upload
      // limit (default 128 KiB).
      return `FcgidMaxRequestLen 67108864
FcgidIOTimeout 60
# A second site left at mod_fcgid's default request limit, to show what it does.
Listen 127.0.0.1:${smallPort}
<VirtualHost 127.0.0.1:${smallPort}>
  DocumentRoot ${www}
  FcgidMaxRequestLen 131072
</VirtualHost>
`;
    },
  });

  matrixTests({ port: () => apache.port, log: () => apache.errorLog() }, [
    { base: '', how: '.htaccess rewrite to app.fcgi/$1' },
    { base: '/sub', how: 'sub/.htaccess rewrite to app.fcgi/$1' },
    { base: '/sub/app.fcgi', how: 'the script URL itself' },
  ]);

  it('mod_fcgid splits SCRIPT_NAME and PATH_INFO at the script', { timeout: 15_000 }, async () => {
    const r = await fetchRaw(apache.port, '/sub/echo?x=1');
    const e = JSON.parse(r.body.toString()) as { environ: Record<string, string> };
    assert.equal(e.environ.SCRIPT_NAME, '/sub/app.fcgi');
    assert.equal(e.environ.PATH_INFO, '/echo');
    assert.equal(e.environ.REQUEST_URI, '/sub/echo?x=1');
    assert.doesNotMatch(apache.errorLog(), /Permission denied|communication error|premature end/i);
  });

  it('the base: the script URL alone, its directory, DirectoryIndex and an encoded directory name', {
    timeout: 15_000,
  }, async () => {
    const at = async (url: string) => {
      const r = await fetchRaw(apache.port, url);
      assert.equal(r.status, 200, `${url}: ${r.body.toString().slice(0, 300)}`);
      const e = JSON.parse(r.body.toString()) as { url: string; path: string; base: string };
      return [e.base, e.path, e.url];
    };
    assert.deepEqual(await at('/sub/app.fcgi'), ['/sub/app.fcgi', '/', '/sub/app.fcgi']);
    assert.deepEqual(await at('/sub/app.fcgi?q=1'), ['/sub/app.fcgi', '/', '/sub/app.fcgi?q=1']);
    assert.deepEqual(await at('/sub/'), ['/sub', '/', '/sub/']);
    assert.deepEqual(await at('/sub/app.fcgi/'), ['/sub/app.fcgi', '/', '/sub/app.fcgi/']);
    // No rewrite, no PATH_INFO: Apache maps /plain/ to the script by DirectoryIndex.
    assert.deepEqual(await at('/plain/'), ['/plain', '/', '/plain/']);
    assert.deepEqual(await at('/plain/app.fcgi/echo'), ['/plain/app.fcgi', '/echo', '/plain/app.fcgi/echo']);
    // The base keeps the URL's own spelling (~ sent as %7E, as some clients do).
    assert.deepEqual(await at('/%7Ex/echo?a=%20'), ['/%7Ex', '/echo', '/%7Ex/echo?a=%20']);
  });

  it('FcgidMaxRequestLen: the default 128 KiB refuses a 300 kB upload (500), the raised limit takes it', {
    timeout: 20_000,
  }, async () => {
    const body = randomBytes(300_000);
    const headers = { 'Content-Type': 'application/octet-stream' };
    const small = await fetchRaw(smallPort, '/echo', { method: 'POST', body, headers });
    assert.equal(small.status, 500, 'the virtual host with the default limit');
    assert.match(apache.errorLog(), /exceeds MaxRequestLen \(131072\)/);
    const big = await fetchRaw(apache.port, '/echo', { method: 'POST', body, headers });
    assert.equal(big.status, 200);
    assert.equal((JSON.parse(big.body.toString()) as { bodyLength: number }).bodyLength, body.length);
  });

  it('a new upload is picked up when renamed over the old file, not when overwritten in place', {
    timeout: 20_000,
  }, async () => {
    const www = apache.www;
    const pid = async () => {
      const r = await fetchRaw(apache.port, '/restart/echo');
      assert.equal(r.status, 200);
      return (JSON.parse(r.body.toString()) as { pid: number }).pid;
    };
    const first = await pid();
    assert.equal(await pid(), first, 'one idle process serves requests one after another');
    // Overwritten in place (same inode): mod_fcgid keeps the old process and its old code.
    copyFileSync(join(www, 'app.fcgi'), join(www, 'restart', 'app.fcgi'));
    assert.equal(await pid(), first);
    // A new file renamed over it (new inode): new processes with the new code at once.
    installCopy(join(www, 'app.fcgi'), join(www, 'restart', 'app.fcgi.new'));
    renameSync(join(www, 'restart', 'app.fcgi.new'), join(www, 'restart', 'app.fcgi'));
    assert.notEqual(await pid(), first);
  });
});
