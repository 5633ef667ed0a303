// The CGI fallback: Apache 2.4 (prefork) + mod_cgi running the same bundled file as a plain CGI
// script, one process per request, at / and under /sub/, with the .htaccess of
// docs/deploy/apache-mod-cgi.md. app.listen() sees the CGI environment and answers that one request.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { CGI_HTACCESS, installCopy } from './helpers/deploy-app.js';
import { matrixTests } from './helpers/deploy-matrix.js';
import { fetchRaw } from './helpers/nginx.js';

const skip = skipUnlessApache(['cgi'], 'apache2');

describe('Apache mod_cgi running the bundled app as a CGI script', { skip, timeout: 120_000 }, () => {
  const apache = apacheDeploy({
    prefix: 'fcgi-deploy-cgi-',
    mpm: 'prefork',
    modules: ['rewrite', 'cgi'],
    app: { entry: 'test/fixtures/matrix-app.ts', file: 'app.cgi', htaccess: CGI_HTACCESS },
    setup: ({ deploy, www }) => {
      deploy.mkdir('www/sub');
      installCopy(join(www, 'app.cgi'), join(www, 'sub', 'app.cgi'));
      writeFileSync(join(www, 'sub', '.htaccess'), CGI_HTACCESS);
      // Enough children for the 50-request burst without waiting for prefork's slow ramp-up.
      return 'StartServers 20\nMinSpareServers 20\nMaxSpareServers 60\nMaxRequestWorkers 100\n';
    },
  });

  // Everything works as CGI; the costs are a Node start per request (~50-100 ms of CPU) and, for
  // the download, Apache re-framing the body as chunked (the app's Content-Length is not passed
  // on). The 50-request burst runs at /; under /sub/ 10 suffice (the same mechanism, and 50 Node
  // starts per mount would take most of the suite's minute on two cores).
  matrixTests({ port: () => apache.port, log: () => apache.errorLog() }, [
    { base: '', how: '.htaccess rewrite to app.cgi/$1' },
    { base: '/sub', how: 'sub/.htaccess rewrite to app.cgi/$1', burst: 10 },
    { base: '/sub/app.cgi', how: 'the script URL itself', burst: 10 },
  ]);

  it('each request is its own process: the CGI environment carries the process variables too', {
    timeout: 15_000,
  }, async () => {
    const r = await fetchRaw(apache.port, '/sub/echo?x=1');
    const e = JSON.parse(r.body.toString()) as { environ: Record<string, string> };
    assert.equal(e.environ.GATEWAY_INTERFACE, 'CGI/1.1');
    assert.equal(e.environ.SCRIPT_NAME, '/sub/app.cgi');
    assert.equal(e.environ.PATH_INFO, '/echo');
    assert.ok(e.environ.PATH, 'mod_cgi passes PATH to the script');
    assert.doesNotMatch(apache.errorLog(), /Permission denied|End of script output before headers/);
  });
});
