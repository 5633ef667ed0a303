// The app's base from what each web server sends: the params below are those the deploy tests
// see from nginx, Apache (mod_fcgid, mod_cgi, mod_proxy_fcgi), lighttpd and Caddy.
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyBase, fixedBaseOf, localUrlOf, type BasePath } from './base-path.js';

function split(environ: Record<string, string>, mode: BasePath = 'auto') {
  const req = { url: environ.REQUEST_URI!, baseUrl: '', environ };
  applyBase(req, mode);
  return [req.baseUrl, req.url];
}

const SELF = realpathSync(process.argv[1]!);

describe('baseOf', () => {
  it("nginx's stock params (SCRIPT_NAME = the whole path, no PATH_INFO): no base", () => {
    assert.deepEqual(split({ REQUEST_URI: '/echo?a=1', SCRIPT_NAME: '/echo', SCRIPT_FILENAME: '/var/www/echo' }), [
      '',
      '/echo?a=1',
    ]);
    assert.deepEqual(split({ REQUEST_URI: '/', SCRIPT_NAME: '/', PATH_INFO: '' }), ['', '/']);
  });

  it('a PATH_INFO that is the tail of the URL: the rest is the base (mod_fcgid, mod_cgi, lighttpd, Caddy)', () => {
    const fcgid = { SCRIPT_NAME: '/sub/app.fcgi', SCRIPT_FILENAME: '/home/a/public_html/sub/app.fcgi' };
    assert.deepEqual(split({ ...fcgid, REQUEST_URI: '/sub/echo?x=1', PATH_INFO: '/echo' }), ['/sub', '/echo?x=1']);
    assert.deepEqual(split({ ...fcgid, REQUEST_URI: '/sub/', PATH_INFO: '/' }), ['/sub', '/']);
    assert.deepEqual(split({ ...fcgid, REQUEST_URI: '/sub/app.fcgi/a/b', PATH_INFO: '/a/b' }), [
      '/sub/app.fcgi',
      '/a/b',
    ]);
    assert.deepEqual(split({ ...fcgid, REQUEST_URI: '/echo', PATH_INFO: '/echo' }), ['', '/echo']);
    // lighttpd with fix-root-scriptname at /: SCRIPT_NAME "", PATH_INFO the whole path.
    assert.deepEqual(split({ REQUEST_URI: '/echo', SCRIPT_NAME: '', PATH_INFO: '/echo' }), ['', '/echo']);
  });

  it('the URL keeps its own spelling: the base and the local path are read from it, encoded', () => {
    const env = { SCRIPT_NAME: '/~alice/sub/app.fcgi' };
    assert.deepEqual(split({ ...env, REQUEST_URI: '/%7Ealice/sub/a%20b?q=%20', PATH_INFO: '/a b' }), [
      '/%7Ealice/sub',
      '/a%20b?q=%20',
    ]);
    assert.deepEqual(split({ ...env, REQUEST_URI: '/~alice/sub/caf%C3%A9', PATH_INFO: '/café' }), [
      '/~alice/sub',
      '/caf%C3%A9',
    ]);
    // Repeated slashes the server merged: the base never ends in one.
    assert.deepEqual(split({ ...env, REQUEST_URI: '/~alice/sub//echo', PATH_INFO: '/echo' }), ['/~alice/sub', '/echo']);
  });

  it('a rewrite whose PATH_INFO is no tail of the URL: the base from SCRIPT_NAME, the rest as sent', () => {
    const env = { REQUEST_URI: '/sub/api/x?q=1', SCRIPT_NAME: '/sub/app.fcgi', PATH_INFO: '/v1/x y' };
    assert.deepEqual(split(env), ['/sub', '/api/x?q=1']);
    // mod_rewrite decoded %252e twice on its way to PATH_INFO: routes still see the URL as sent.
    const twice = { REQUEST_URI: '/%252e%252e/a.txt', SCRIPT_NAME: '/app.fcgi', PATH_INFO: '/../a.txt' };
    assert.deepEqual(split(twice), ['', '/%252e%252e/a.txt']);
    assert.deepEqual(split({ ...env, REQUEST_URI: '/sub/app.fcgi/x', PATH_INFO: '/y' }), ['/sub/app.fcgi', '/x']);
    assert.deepEqual(split({ ...env, REQUEST_URI: '/elsewhere/x', PATH_INFO: '/y' }), ['', '/elsewhere/x']);
  });

  it('a server that resolved dot segments: the base never swallows them', () => {
    // lighttpd normalizes /files/%2e%2e/outside/x to PATH_INFO /outside/x (SCRIPT_NAME "").
    const env = { SCRIPT_NAME: '', PATH_INFO: '/outside/x' };
    for (const url of ['/files/%2e%2e/outside/x', '/files/%2E%2E/outside/x', '/files/../outside/x', '/a/./outside/x']) {
      assert.deepEqual(split({ ...env, REQUEST_URI: url }), ['', url], url);
    }
    // Apache decoded %252e twice and resolved it.
    assert.deepEqual(
      split({ SCRIPT_NAME: '/app.fcgi', PATH_INFO: '/literal.txt', REQUEST_URI: '/%252e%252e/literal.txt' }),
      ['', '/%252e%252e/literal.txt'],
    );
    // A whole path that decodes to PATH_INFO: no base.
    assert.deepEqual(
      split({ SCRIPT_NAME: '/app.fcgi', PATH_INFO: '/%2e%2e/l.txt', REQUEST_URI: '/%252e%252e/l.txt' }),
      ['', '/%252e%252e/l.txt'],
    );
    // Dots inside a name are no dot segment.
    assert.deepEqual(split({ SCRIPT_NAME: '/a..b/app.fcgi', PATH_INFO: '/x', REQUEST_URI: '/a..b/x' }), [
      '/a..b',
      '/x',
    ]);
  });

  it("no PATH_INFO and SCRIPT_FILENAME is this process's file: the script URL, or its directory", () => {
    const env = { SCRIPT_NAME: '/sub/app.fcgi', SCRIPT_FILENAME: SELF };
    assert.deepEqual(split({ ...env, REQUEST_URI: '/sub/app.fcgi?x=1' }), ['/sub/app.fcgi', '/?x=1']);
    // DirectoryIndex, or a rewrite to the script without /$1.
    assert.deepEqual(split({ ...env, REQUEST_URI: '/sub/' }), ['/sub', '/']);
    assert.deepEqual(split({ ...env, REQUEST_URI: '/sub/notes/1' }), ['/sub', '/notes/1']);
    assert.deepEqual(split({ ...env, REQUEST_URI: '/%73ub/notes' }), ['/%73ub', '/notes']);
    // Not below the script's directory (an Alias, a rewrite from elsewhere): no base.
    assert.deepEqual(split({ ...env, REQUEST_URI: '/other/x' }), ['', '/other/x']);
    assert.deepEqual(split({ ...env, REQUEST_URI: '/subway' }), ['', '/subway']);
    // At the root the directory is '': no base.
    assert.deepEqual(split({ SCRIPT_NAME: '/app.fcgi', SCRIPT_FILENAME: SELF, REQUEST_URI: '/x' }), ['', '/x']);
    // Another file of the same name is another script: no base.
    assert.deepEqual(
      split({ SCRIPT_NAME: '/sub/app.fcgi', SCRIPT_FILENAME: `/nonexistent${SELF}`, REQUEST_URI: '/sub/x' }),
      ['', '/sub/x'],
    );
  });

  it('a fixed prefix (nginx `location /app/` sends no PATH_INFO)', () => {
    assert.deepEqual(split({ REQUEST_URI: '/app/notes?x' }, '/app'), ['/app', '/notes?x']);
    assert.deepEqual(split({ REQUEST_URI: '/app/notes' }, '/app/'), ['/app', '/notes']);
    assert.deepEqual(split({ REQUEST_URI: '/app?x' }, '/app'), ['/app', '/?x']);
    assert.deepEqual(split({ REQUEST_URI: '/app' }, '/app'), ['/app', '/']);
    assert.deepEqual(split({ REQUEST_URI: '/apple' }, '/app'), ['', '/apple']);
    assert.equal(fixedBaseOf('/', '/x'), '');
  });

  it('basePath false: the whole URL', () => {
    assert.deepEqual(split({ REQUEST_URI: '/sub/echo', SCRIPT_NAME: '/sub/app.fcgi', PATH_INFO: '/echo' }, false), [
      '',
      '/sub/echo',
    ]);
  });

  it('an absolute-form target with no base is left alone', () => {
    assert.equal(localUrlOf('http://h/x', ''), 'http://h/x');
  });

  const segment = fc.stringMatching(/^[a-zA-Z0-9~ é%._-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
  // A base with an encoded percent is refused (above): base segments leave '%' out.
  const baseSegment = fc.stringMatching(/^[a-zA-Z0-9~ é._-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
  const encode = (s: string) => encodeURIComponent(s).replace(/%7E/g, s.length % 2 ? '~' : '%7E');

  it('property: for any base and local path, the base and the local path come back as sent', () => {
    fc.assert(
      fc.property(
        fc.array(baseSegment, { maxLength: 3 }),
        fc.array(segment, { maxLength: 4 }),
        (baseSegs, localSegs) => {
          const base = baseSegs.map((s) => '/' + encode(s)).join('');
          const local = '/' + localSegs.map(encode).join('/');
          const pathInfo = decodeURIComponent(local);
          const environ = { REQUEST_URI: base + local + '?q=1', PATH_INFO: pathInfo, SCRIPT_NAME: '/x' };
          const [gotBase, gotUrl] = split(environ);
          // The base found is the shortest prefix whose rest decodes to PATH_INFO: a rest made of
          // the same segments repeated can be found further left, never elsewhere.
          assert.equal(decodeURIComponent(gotUrl!.slice(0, -4)), pathInfo);
          assert.ok((base + local).startsWith(gotBase!));
          assert.equal(gotBase! + gotUrl, base + local + '?q=1');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
