// Express-style response helpers over real FastCGI: the exact CGI header block and body each one
// produces (headers, type, vary, links, location, redirect, attachment, cookies, format).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import cookieParser from 'cookie-parser';
import { createApp, type App, type AppRequest, type AppResponse, type Handler, type Middleware } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

const T = { timeout: 10_000 };
type Route = (req: AppRequest, res: AppResponse, next: (err?: unknown) => void) => unknown;

/** An app answering by path; `fn` gets a requester taking the URI, method and extra params. */
function serveRoutes(
  routes: Record<string, Route>,
  fn: (get: (uri: string, extra?: Record<string, string>) => ReturnType<typeof request>) => Promise<void>,
  hooks: { before?: (app: App) => void; after?: (app: App) => void } = {},
): Promise<void> {
  const app = createApp();
  hooks.before?.(app);
  app.use((req, res, next) => (routes[req.path] ? routes[req.path]!(req, res, next) : next()));
  hooks.after?.(app);
  return withServer(app as unknown as Handler, ({ path }) =>
    fn((uri, extra = {}) =>
      request(path, nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0]!, ...extra })),
    ),
  );
}

/** The header block as sent, without the empty line that ends it. */
function block(stdout: Buffer): string {
  return stdout.subarray(0, stdout.indexOf('\r\n\r\n')).toString('latin1');
}

describe('response helpers', () => {
  it('set/header/get/append/vary/links: values, repeated lines, order kept', T, async () => {
    let seen: unknown[] = [];
    await serveRoutes(
      {
        '/h': (_q, res) => {
          res.set('X-One', 1).header({ 'X-Two': ['a', 'b'], 'Content-Type': 'text/plain' });
          seen.push(res.get('content-type'), res.get('X-TWO'));
          res.append('X-Two', 'c').append('X-Three', ['x', 'y']).append('X-Four', '4');
          res.vary('Accept').vary(['origin', 'ACCEPT']).vary('User-Agent, Origin');
          res.links({ next: '/n?page=2', pages: ['/1', '/2'] }).links({ last: '/9' });
          seen.push(res.get('x-three'));
          res.end('x');
        },
        '/errors': (_q, res) => {
          const codes: string[] = [];
          for (const f of [
            () => res.set('Content-Type', ['a/b']),
            () => res.vary('bad name'),
            () => res.vary(''),
            () => res.set('X-Bad', 'a\r\nb'),
          ]) {
            try {
              f();
              codes.push('none');
            } catch (e) {
              codes.push((e as Error).name);
            }
          }
          seen = codes;
          res.vary('*').vary('Accept');
          res.end();
        },
      },
      async (get) => {
        const r = await get('/h');
        assert.equal(
          block(r.stdout),
          [
            'X-One: 1',
            'X-Two: a',
            'X-Two: b',
            'X-Two: c',
            'Content-Type: text/plain; charset=utf-8',
            'X-Three: x',
            'X-Three: y',
            'X-Four: 4',
            'Vary: Accept, origin, User-Agent',
            'Link: </n?page=2>; rel="next", </1>; rel="pages", </2>; rel="pages", </9>; rel="last"',
            'Content-Length: 1',
          ].join('\r\n'),
        );
        assert.deepEqual(seen, ['text/plain; charset=utf-8', ['a', 'b'], ['x', 'y']]);
        const e = await get('/errors');
        assert.deepEqual(seen, ['TypeError', 'TypeError', 'TypeError', 'FcgiError']);
        assert.equal(block(e.stdout), 'Vary: *\r\nContent-Length: 0');
      },
    );
  });

  it('type/contentType: extensions, names and full types through mime-types, charset for text', T, async () => {
    const seen: unknown[] = [];
    await serveRoutes(
      {
        '/t': (_q, res) => {
          for (const t of [
            'json',
            '.html',
            'text/plain',
            'png',
            'txt',
            'application/javascript',
            'no-such-ext',
            'text/csv; charset=latin1',
          ]) {
            seen.push(res.type(t).get('Content-Type'));
          }
          seen.push(res.contentType('css').get('Content-Type'));
          res.end();
        },
      },
      async (get) => {
        const r = await get('/t');
        assert.equal(r.status, 200);
        assert.deepEqual(seen, [
          'application/json; charset=utf-8',
          'text/html; charset=utf-8',
          'text/plain; charset=utf-8',
          'image/png',
          'text/plain; charset=utf-8',
          'application/javascript; charset=utf-8',
          'application/octet-stream',
          'text/csv; charset=latin1',
          'text/css; charset=utf-8',
        ]);
        assert.equal(r.headers['content-type'], 'text/css; charset=utf-8');
      },
    );
  });

  it('location: encoded like encodeurl (no double encoding), relative and absolute kept as given', T, async () => {
    await serveRoutes(
      {
        '/rel': (_q, res) => {
          res.location('../login?next=/a b').sendStatus(201);
        },
        '/abs': (_q, res) => {
          res.location('https://example.com/ü/%41%zz').end();
        },
      },
      async (get) => {
        const rel = await get('/rel');
        assert.equal(
          block(rel.stdout),
          'Status: 201 Created\r\nLocation: ../login?next=/a%20b\r\nContent-Type: text/plain; charset=utf-8\r\n' +
            'Content-Length: 7\r\nETag: W/"7-rM9AyJuqT6iOan/xHh+AW+7K/T8"',
        );
        assert.equal(rel.body.toString(), 'Created');
        // A 200 with Location still says its Status, or Apache would redirect internally.
        assert.equal(
          block((await get('/abs')).stdout),
          'Status: 200 OK\r\nLocation: https://example.com/%C3%BC/%41%25zz\r\nContent-Length: 0',
        );
      },
    );
  });

  it('redirect: 302 default, text or HTML note by Accept, HEAD without body, status first', T, async () => {
    await serveRoutes(
      {
        '/r': (_q, res) => res.redirect('/a b/%20ü?x=<y>'),
        '/perm': (_q, res) => res.redirect(301, 'http://example.com/x'),
        '/proto': (_q, res) => res.redirect('//other.example/p'),
        '/back': (_q, res) => res.redirect('\\\\other.example'),
      },
      async (get) => {
        const loc = 'Location: /a%20b/%20%C3%BC?x=%3Cy%3E';
        const text = await get('/r');
        assert.equal(
          text.stdout.toString('latin1'),
          `Status: 302 Found\r\n${loc}\r\nVary: Accept\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 48\r\n\r\n` +
            'Found. Redirecting to /a%20b/%20%C3%BC?x=%3Cy%3E',
        );
        const html = await get('/r', { HTTP_ACCEPT: 'text/html,application/xhtml+xml,*/*;q=0.8' });
        assert.equal(
          block(html.stdout),
          `Status: 302 Found\r\n${loc}\r\nVary: Accept\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 116`,
        );
        assert.equal(
          html.body.toString(),
          '<!DOCTYPE html><head><title>Found</title></head><body><p>Found. Redirecting to /a%20b/%20%C3%BC?x=%3Cy%3E</p></body>',
        );
        const head = await get('/r', { REQUEST_METHOD: 'HEAD' });
        assert.equal(
          head.stdout.toString('latin1'),
          `Status: 302 Found\r\n${loc}\r\nVary: Accept\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 48\r\n\r\n`,
        );
        const none = await get('/r', { HTTP_ACCEPT: 'image/png' });
        assert.equal(
          none.stdout.toString('latin1'),
          `Status: 302 Found\r\n${loc}\r\nVary: Accept\r\nContent-Length: 0\r\n\r\n`,
        );
        const perm = await get('/perm');
        assert.equal(perm.status, 301);
        assert.equal(perm.headers.location, 'http://example.com/x');
        assert.equal(perm.body.toString(), 'Moved Permanently. Redirecting to http://example.com/x');
        // Scheme-relative and backslash targets are the app's to judge, as in Express: passed as given.
        assert.equal((await get('/proto')).headers.location, '//other.example/p');
        assert.equal((await get('/back')).headers.location, '\\\\other.example');
      },
    );
  });

  it('redirect refuses CR/LF in the target: a 500, no Location, no injected header', T, async () => {
    await serveRoutes(
      {
        '/inject': (_q, res) => res.redirect('/x\r\nSet-Cookie: owned=1'),
        '/loc': (_q, res) => {
          res.location('/y\nX-Evil: 1').end();
        },
      },
      async (get) => {
        for (const uri of ['/inject', '/loc']) {
          const r = await get(uri);
          assert.equal(r.status, 500, uri);
          assert.equal(r.headers.location, undefined);
          assert.equal(r.headers['set-cookie'], undefined);
          assert.equal(r.headers['x-evil'], undefined);
          assert.match(r.stderr.toString(), /CR or LF/);
        }
      },
    );
  });

  it('attachment: Content-Disposition with filename* for non-ASCII, Content-Type from the extension', T, async () => {
    await serveRoutes(
      {
        '/a': (_q, res) => res.attachment('/x/日本語 résumé.txt').send('x'),
        '/bare': (_q, res) => res.attachment().end(),
        '/noext': (_q, res) => res.attachment('dir/README').end(),
      },
      async (get) => {
        assert.equal(
          block((await get('/a')).stdout),
          [
            'Content-Type: text/plain; charset=utf-8',
            'Content-Disposition: attachment; filename="??? r?sum?.txt"; filename*=UTF-8\'\'%E6%97%A5%E6%9C%AC%E8%AA%9E%20r%C3%A9sum%C3%A9.txt',
            'Content-Length: 1',
            'ETag: W/"1-EfatjsUqKYSrqv18O1FlA3hcIHI"',
          ].join('\r\n'),
        );
        assert.equal(block((await get('/bare')).stdout), 'Content-Disposition: attachment\r\nContent-Length: 0');
        assert.equal(
          block((await get('/noext')).stdout),
          'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=README\r\nContent-Length: 0',
        );
      },
    );
  });

  it('cookie/clearCookie: one Set-Cookie line each; j: JSON, maxAge ms -> Max-Age s + Expires, Path=/', T, async () => {
    const now = Date.now();
    await serveRoutes(
      {
        '/c': (_q, res) => {
          res.cookie('a', { x: 1 }, { maxAge: 60_000, httpOnly: true });
          res.cookie('b', 'two words', { path: '/admin', secure: true, sameSite: 'strict' });
          res.clearCookie('old', { path: '/p', maxAge: 1000 });
          res.send('ok');
        },
        '/unsigned-secret': (_q, res) => {
          res.cookie('s', 'v', { signed: true }).end();
        },
      },
      async (get) => {
        const r = await get('/c');
        const lines = block(r.stdout)
          .split('\r\n')
          .filter((l) => l.startsWith('Set-Cookie: '));
        assert.equal(lines.length, 3);
        const m = /^Set-Cookie: a=j%3A%7B%22x%22%3A1%7D; Max-Age=60; Path=\/; Expires=([^;]+); HttpOnly$/.exec(
          lines[0]!,
        );
        assert.ok(m, lines[0]);
        const expires = Date.parse(m[1]!);
        assert.ok(expires > now + 58_000 && expires <= Date.now() + 60_000, m[1]);
        assert.equal(lines[1], 'Set-Cookie: b=two%20words; Path=/admin; Secure; SameSite=Strict');
        assert.equal(lines[2], 'Set-Cookie: old=; Path=/p; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
        // No secret anywhere: signing is an error (500), as in Express.
        const bad = await get('/unsigned-secret');
        assert.equal(bad.status, 500);
        assert.match(bad.stderr.toString(), /signed cookies need a secret/);
      },
    );
  });

  it(
    'signed cookie round trip: signed with the first cookie secret, verified from a real Cookie header',
    T,
    async () => {
      const got: Record<string, unknown> = {};
      await serveRoutes(
        {
          '/set': (_q, res) => {
            res.cookie('s', 'v+/=', { signed: true }).cookie('o', { n: 1 }, { signed: true }).end();
          },
          '/read': (req, res) => {
            got.header = req.headers.cookie;
            got.signed = { ...req.signedCookies };
            res.end();
          },
        },
        async (get) => {
          const set = await get('/set');
          const pairs = ([] as string[]).concat(set.headers['set-cookie']!).map((l) => l.split(';')[0]!);
          // The same bytes Express 5 writes with cookieParser('sekrit').
          assert.equal(pairs[0], 's=s%3Av%2B%2F%3D.rzXgNMO6hJP7m7kPHZUwOl7a3J1fHzJgecpi6aH1mX8');
          // Checked independently: HMAC-SHA256 of the value with the secret, base64 without '='.
          for (const pair of pairs) {
            const value = decodeURIComponent(pair.slice(pair.indexOf('=') + 1));
            assert.ok(value.startsWith('s:'), value);
            const dot = value.lastIndexOf('.');
            const mac = createHmac('sha256', 'sekrit').update(value.slice(2, dot)).digest('base64').replace(/=+$/, '');
            assert.equal(value.slice(dot + 1), mac);
          }
          await get('/read', { HTTP_COOKIE: pairs.join('; ') });
          assert.equal(got.header, pairs.join('; '));
          assert.deepEqual(got.signed, { s: 'v+/=', o: { n: 1 } });
        },
        { before: (app) => app.set('cookie secret', ['sekrit', 'older']) },
      );
    },
  );

  it('signed cookies with cookie-parser: its secret signs, and it reads them back', T, async () => {
    const got: Record<string, unknown> = {};
    await serveRoutes(
      {
        '/set': (_q, res) => {
          res.cookie('s', 'hello', { signed: true }).end();
        },
        '/read': (req, res) => {
          got.signed = { ...req.signedCookies };
          res.end();
        },
      },
      async (get) => {
        const set = await get('/set');
        const pair = String(set.headers['set-cookie']).split(';')[0]!;
        await get('/read', { HTTP_COOKIE: `${pair}; plain=1` });
        assert.deepEqual(got.signed, { s: 'hello' });
      },
      { before: (app) => app.use(cookieParser('parser-secret') as unknown as Middleware) },
    );
  });

  it(
    'format: the handler for the preferred type, Vary: Accept, Content-Type; default; 406 to next(err)',
    T,
    async () => {
      const handlers = (res: AppResponse) => ({
        text: () => res.send('t'),
        'application/json': () => res.send({ j: 1 }),
        html: () => res.send('<b>h</b>'),
      });
      await serveRoutes(
        {
          '/f': (_q, res) => res.format(handlers(res)),
          '/d': (_q, res) =>
            res.format({ json: () => res.send({ j: 1 }), default: () => res.status(406).send('pick json') }),
        },
        async (get) => {
          const first = await get('/f');
          assert.equal(
            block(first.stdout),
            'Vary: Accept\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nETag: W/"1-jv2G+3ilalFF7Xc53LAMeFgcU3U"',
          );
          const json = await get('/f', { HTTP_ACCEPT: 'application/json' });
          assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
          assert.equal(json.body.toString(), '{"j":1}');
          const html = await get('/f', { HTTP_ACCEPT: 'text/plain;q=0.5, text/html' });
          assert.equal(html.body.toString(), '<b>h</b>');
          assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
          const wild = await get('/f', { HTTP_ACCEPT: 'application/*' });
          assert.equal(wild.body.toString(), '{"j":1}');
          const no = await get('/f', { HTTP_ACCEPT: 'image/png' });
          assert.equal(no.status, 406);
          assert.deepEqual(JSON.parse(no.body.toString()), {
            message: 'Not Acceptable',
            types: ['text/plain', 'application/json', 'text/html'],
          });
          const dflt = await get('/d', { HTTP_ACCEPT: 'text/csv' });
          assert.equal(dflt.status, 406);
          assert.equal(dflt.body.toString(), 'pick json');
          assert.equal(dflt.headers.vary, 'Accept');
        },
        {
          after: (app) =>
            app.use(
              (
                err: { status: number; message: string; types: string[] },
                _q: AppRequest,
                res: AppResponse,
                _n: unknown,
              ) => {
                res.status(err.status).json({ message: err.message, types: err.types });
              },
            ),
        },
      );
    },
  );

  it('the core writers still work on AppResponse: write, print, err, end', T, async () => {
    await serveRoutes(
      {
        '/w': (_q, res) => {
          res.type('txt');
          res.write('a');
          res.print('b', 1);
          res.err('to the log', 2);
          res.end('c');
        },
      },
      async (get) => {
        const r = await get('/w');
        assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
        assert.equal(r.body.toString(), 'ab 1\nc');
        assert.match(r.stderr.toString(), /^\S+Z \[req \d+-\d+\] GET \/w: to the log 2\n$/);
      },
    );
  });
});
