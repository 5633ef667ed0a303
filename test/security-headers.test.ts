// Header injection: CR, LF (bare or paired) and NUL reaching a header name, value, status reason,
// cookie or redirect through the app's helpers (createApp's res.set/cookie/redirect/...), from the
// handler's own code or echoed from the request. None may forge a header line: each is refused
// (the response becomes an error) or encoded so the line stays one line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, type AppRequest, type AppResponse, type Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

const T = { timeout: 20_000 };
const INJECT = 'v\r\nX-Injected: 1';

/** Each vector runs inside a handler; the final handler answers whatever it throws. */
const VECTORS: Record<string, (req: AppRequest, res: AppResponse) => void> = {
  'res.set value CRLF': (_q, res) => void res.set('X-A', INJECT),
  'res.set value bare LF': (_q, res) => void res.set('X-A', 'v\nX-Injected: 1'),
  'res.set value bare CR': (_q, res) => void res.set('X-A', 'v\rX-Injected: 1'),
  'res.set value NUL': (_q, res) => void res.set('X-A', 'v\0X-Injected: 1'),
  'res.set name CRLF': (_q, res) => void res.set('X-A\r\nX-Injected', 'v'),
  'res.set name with colon': (_q, res) => void res.set('X-Injected: 1\r\nX-A', 'v'),
  'res.set array value': (_q, res) => void res.set('X-A', ['ok', INJECT]),
  'res.append': (_q, res) => void res.append('X-A', INJECT),
  'res.set object': (_q, res) => void res.set({ 'X-A': INJECT }),
  'res.type': (_q, res) => void res.type(`text/html${INJECT}`),
  'res.vary': (_q, res) => void res.vary(`Accept${INJECT}`),
  'res.links': (_q, res) => void res.links({ next: `/n${INJECT}` }),
  'res.location': (_q, res) => void res.location(`/x${INJECT}`),
  'res.redirect': (_q, res) => res.redirect(`/x${INJECT}`),
  'res.redirect bare LF': (_q, res) => res.redirect(301, '/x\nX-Injected: 1'),
  'res.redirect from the query': (req, res) => res.redirect(String(req.query.to)),
  'res.cookie value': (_q, res) => void res.cookie('sid', INJECT),
  'res.cookie value, identity encode': (_q, res) => void res.cookie('sid', INJECT, { encode: (s) => s }),
  'res.cookie name': (_q, res) => void res.cookie(`sid${INJECT}`, 'v'),
  'res.cookie path': (_q, res) => void res.cookie('sid', 'v', { path: `/${INJECT}` }),
  'res.cookie domain': (_q, res) => void res.cookie('sid', 'v', { domain: `example.com${INJECT}` }),
  'res.cookie signed': (_q, res) => void res.cookie('sid', INJECT, { signed: true }),
  'res.cookie object': (_q, res) => void res.cookie('sid', { a: INJECT }),
  'res.attachment': (_q, res) => void res.attachment(`evil${INJECT}.txt`),
  'writeHead reason': (_q, res) => void res.writeHead(200, `OK${INJECT}`),
  'statusMessage assigned': (_q, res) => void (res.statusMessage = `OK${INJECT}`),
  'a header echoed from the query': (req, res) => void res.set('X-Echo', String(req.query.to)),
};

function app(): Handler {
  const a = createApp();
  a.set('env', 'production');
  a.set('cookie secret', 'k');
  a.use((req, res) => {
    VECTORS[decodeURIComponent(req.path.slice(3))]!(req, res);
    if (!res.headersSent && !res.writableEnded) res.end('done');
    else if (!res.writableEnded) res.end();
  });
  return a as unknown as Handler;
}

/** The header block's lines, as the web server would split them (on CRLF, and on a bare LF too). */
function headerLines(stdout: Buffer): string[] {
  const end = stdout.indexOf('\r\n\r\n');
  return (end < 0 ? '' : stdout.subarray(0, end).toString('latin1')).split(/\r\n|\n|\r/);
}

describe('header injection through the app helpers', () => {
  it('no vector forges a header line: each is refused (500) or encoded within its one line', T, async (t) => {
    const outcomes: string[] = [];
    await withServer(app(), async ({ path }) => {
      for (const name of Object.keys(VECTORS)) {
        const uri = `/v/${encodeURIComponent(name)}?to=${encodeURIComponent(`/x${INJECT}`)}`;
        const r = await request(
          path,
          nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0]!, QUERY_STRING: uri.split('?')[1]! }),
        );
        const lines = headerLines(r.stdout);
        assert.ok(
          !lines.some((l) => /^x-injected/i.test(l)),
          `${name}: forged a header line: ${JSON.stringify(lines)}`,
        );
        for (const l of lines) {
          assert.match(
            l,
            /^[!#$%&'*+.^_`|~0-9A-Za-z-]+: [^\0]*$/,
            `${name}: malformed header line ${JSON.stringify(l)}`,
          );
        }
        assert.ok(
          r.status === 500 || r.status === 200 || r.status === 302 || r.status === 301,
          `${name}: status ${r.status}`,
        );
        outcomes.push(`${name}: ${r.status === 500 ? 'refused' : 'encoded'}`);
        if (r.status === 500) {
          // Refused: the error page replaced the response; nothing of the bad header got out.
          assert.ok(!r.stdout.includes('X-Injected'), `${name}: the 500 page reflects the injected text`);
        } else {
          // Encoded: the would-be header is inside one line, its CR/LF percent-encoded.
          assert.ok(!/\r\nX-Injected/i.test(r.stdout.toString('latin1')), `${name}`);
        }
      }
    });
    t.diagnostic(outcomes.join('; '));
  });

  it('the encoded cases keep the value, percent-encoded, in one line', T, async () => {
    await withServer(app(), async ({ path }) => {
      const get = (name: string) => {
        const uri = `/v/${encodeURIComponent(name)}`;
        return request(path, nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri }));
      };
      let r = await get('res.cookie value');
      assert.equal(r.status, 200);
      assert.equal(r.headers['set-cookie'], 'sid=v%0D%0AX-Injected%3A%201; Path=/');
      r = await get('res.attachment');
      assert.equal(r.status, 200);
      assert.match(
        String(r.headers['content-disposition']),
        /^attachment; filename="evilv\?\?X-Injected: 1\.txt"; filename\*=UTF-8''evilv%0D%0AX-Injected%3A%201\.txt$/,
      );
      r = await get('res.set value CRLF');
      assert.equal(r.status, 500);
      assert.equal(r.headers['x-a'], undefined);
    });
  });
});
