// The response's status and headers as they reach the web server: the CGI header block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FcgiRequest, FcgiResponse } from '@fcgi/core';
import { nginxParams, request, send, withServer } from './helpers/http-harness.js';

const T = { timeout: 10_000 };
type Route = (req: FcgiRequest, res: FcgiResponse) => unknown;

/** A server whose handler is picked by the request path; runs `fn` with a GET helper. */
function serve(
  routes: Record<string, Route>,
  fn: (get: (p: string, method?: string) => ReturnType<typeof request>) => Promise<void>,
) {
  return withServer(
    (req, res) => routes[req.path]!(req, res),
    ({ path }) => fn((p, method = 'GET') => request(path, nginxParams({ REQUEST_URI: p, REQUEST_METHOD: method }))),
  );
}

/** The header block as text, without the final empty line. */
function block(stdout: Buffer): string {
  return stdout.subarray(0, stdout.indexOf('\r\n\r\n')).toString('latin1');
}

/** Runs `fn` and returns the code of what it threw, or 'none'. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}

test('status: statusCode, status(), statusMessage become the Status line; a plain 200 has none', T, async () => {
  await serve(
    {
      '/code': (_q, res) => {
        res.statusCode = 404;
        res.end('x');
      },
      '/chain': (_q, res) => res.status(418).end(),
      '/reason': (_q, res) => {
        res.statusCode = 503;
        res.statusMessage = 'Gone Fishing';
        res.end();
      },
      '/plain': (_q, res) => res.end('ok'),
      '/located': (_q, res) => {
        res.setHeader('Location', '/elsewhere');
        res.end();
      },
      '/redirect': (_q, res) => {
        res.statusCode = 302;
        res.setHeader('Location', '/x');
        res.end();
      },
      // Assigned directly, so only checked when the block is made: as node:http, a numeric string
      // counts and a code outside 100-999 is an error (the handler's, so a 500).
      '/string-code': (_q, res) => {
        (res as { statusCode: unknown }).statusCode = '410';
        res.end();
      },
      '/bad-code': (_q, res) => {
        res.statusCode = 42;
        res.end('never');
      },
    },
    async (get) => {
      assert.match(block((await get('/string-code')).stdout), /^Status: 410 Gone\r\n/);
      const bad = await get('/bad-code');
      assert.equal(bad.status, 500);
      assert.match(bad.stderr.toString(), /ERR_FCGI_INVALID_STATUS|invalid status code 42/);
      assert.match(block((await get('/code')).stdout), /^Status: 404 Not Found\r\n/);
      assert.match(block((await get('/chain')).stdout), /^Status: 418 I'm a Teapot\r\n/i);
      assert.match(block((await get('/reason')).stdout), /^Status: 503 Gone Fishing\r\n/);
      const plain = await get('/plain');
      assert.equal(block(plain.stdout), 'Content-Length: 2');
      assert.equal(plain.status, 200);
      // 200 with Location: Status must be there, or Apache does an internal redirect.
      assert.equal(
        block((await get('/located')).stdout),
        'Status: 200 OK\r\nLocation: /elsewhere\r\nContent-Length: 0',
      );
      assert.equal(block((await get('/redirect')).stdout), 'Status: 302 Found\r\nLocation: /x\r\nContent-Length: 0');
    },
  );
});

test('header API: set/get/has/remove/getHeaders/getHeaderNames/append, Set-Cookie lines', T, async () => {
  let seen: unknown;
  await serve(
    {
      '/h': (_q, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.setHeader('X-Number', 42);
        res.setHeader('X-Gone', 'soon');
        res.setHeader('X-List', ['a', 'b']);
        res.appendHeader('Set-Cookie', 'a=1; Path=/');
        res.appendHeader('set-cookie', ['b=2', 'c=3']);
        res.setHeader('Vary', 'Accept');
        res.appendHeader('Vary', 'Origin');
        const before = res.hasHeader('x-gone');
        res.removeHeader('X-GONE');
        const headers = res.getHeaders();
        seen = {
          type: res.getHeader('content-type'),
          number: res.getHeader('X-NUMBER'),
          list: res.getHeader('x-list'),
          cookies: res.getHeader('Set-Cookie'),
          before,
          after: res.hasHeader('X-Gone'),
          missing: res.getHeader('nope'),
          headers: { ...headers },
          proto: Object.getPrototypeOf(headers) === null,
          names: res.getHeaderNames(),
        };
        res.end();
      },
      '/cookie-array': (_q, res) => {
        res.setHeader('Set-Cookie', ['x=1', 'y=2']);
        res.end();
      },
    },
    async (get) => {
      const r = await get('/h');
      assert.equal(
        block(r.stdout),
        [
          'Content-Type: text/plain',
          'X-Number: 42',
          'X-List: a',
          'X-List: b',
          'Set-Cookie: a=1; Path=/',
          'Set-Cookie: b=2',
          'Set-Cookie: c=3',
          'Vary: Accept',
          'Vary: Origin',
          'Content-Length: 0',
        ].join('\r\n'),
      );
      assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2', 'c=3']);
      assert.deepEqual(seen, {
        type: 'text/plain',
        number: '42',
        list: ['a', 'b'],
        cookies: ['a=1; Path=/', 'b=2', 'c=3'],
        before: true,
        after: false,
        missing: undefined,
        headers: {
          'content-type': 'text/plain',
          'x-number': '42',
          'x-list': ['a', 'b'],
          'set-cookie': ['a=1; Path=/', 'b=2', 'c=3'],
          vary: ['Accept', 'Origin'],
        },
        proto: true,
        names: ['content-type', 'x-number', 'x-list', 'set-cookie', 'vary'],
      });
      assert.deepEqual((await get('/cookie-array')).headers['set-cookie'], ['x=1', 'y=2']);
    },
  );
});

test('writeHead(status, reason?, headers?)', T, async () => {
  await serve(
    {
      '/three': (_q, res) =>
        res.writeHead(201, 'Made It', { 'Content-Type': 'text/plain', 'X-A': ['1', '2'] }).end('hi'),
      '/two': (_q, res) => res.writeHead(409, { 'X-B': 'b' }).end(),
      '/one': (_q, res) => {
        res.setHeader('X-Kept', 'k');
        res.writeHead(202);
        res.end();
      },
    },
    async (get) => {
      let r = await get('/three');
      assert.match(block(r.stdout), /^Status: 201 Made It\r\nContent-Type: text\/plain\r\nX-A: 1\r\nX-A: 2\r\n/);
      assert.equal(r.body.toString(), 'hi');
      r = await get('/two');
      assert.match(block(r.stdout), /^Status: 409 Conflict\r\nX-B: b/);
      r = await get('/one');
      assert.match(block(r.stdout), /^Status: 202 Accepted\r\nX-Kept: k/);
    },
  );
});

test(
  'the header block goes out once, before the first body byte; later changes throw ERR_FCGI_HEADERS_SENT',
  T,
  async () => {
    await serve(
      {
        '/w': (_q, res) => {
          res.setHeader('X-Early', '1');
          const sentBefore = res.headersSent;
          res.write('a');
          const codes = [
            codeOf(() => res.setHeader('X-Late', '1')),
            codeOf(() => res.appendHeader('X-Early', '2')),
            codeOf(() => res.removeHeader('X-Early')),
            codeOf(() => res.writeHead(500)),
          ];
          res.write('b');
          res.end(`|${sentBefore} ${res.headersSent} ${codes.join(',')}`);
        },
      },
      async (get) => {
        const r = await get('/w');
        const out = r.stdout.toString('latin1');
        assert.equal(out, `X-Early: 1\r\n\r\nab|false true ${Array(4).fill('ERR_FCGI_HEADERS_SENT').join(',')}`);
        // Written with write(): no Content-Length could be known.
        assert.equal(r.headers['content-length'], undefined);
      },
    );
  },
);

test('writeHead commits the headers, as in node:http: headersSent, and later setHeader throws', T, async () => {
  await serve(
    {
      '/wh': (_q, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`${res.headersSent} ${codeOf(() => res.setHeader('X-After', '1'))}`);
      },
    },
    async (get) => {
      const r = await get('/wh');
      assert.equal(r.body.toString(), 'true ERR_FCGI_HEADERS_SENT');
      assert.equal(r.headers['x-after'], undefined);
    },
  );
});

test('end(body) adds Content-Length (UTF-8 bytes) unless set; none for 204/304 or streamed bodies', T, async () => {
  await serve(
    {
      '/text': (_q, res) => res.end('héllo €'),
      '/buffer': (_q, res) => res.end(Buffer.alloc(1000, 1)),
      '/latin1': (_q, res) => res.end('é', 'latin1'),
      '/empty': (_q, res) => res.end(),
      '/own': (_q, res) => {
        res.setHeader('Content-Length', '3');
        res.end('abc');
      },
      '/204': (_q, res) => {
        res.statusCode = 204;
        res.end();
      },
      '/304': (_q, res) => {
        res.statusCode = 304;
        res.setHeader('ETag', '"x"');
        res.end();
      },
      '/streamed': (_q, res) => {
        res.write('a');
        res.end('b');
      },
    },
    async (get) => {
      assert.equal((await get('/text')).headers['content-length'], String(Buffer.byteLength('héllo €')));
      assert.equal((await get('/text')).body.toString(), 'héllo €');
      assert.equal((await get('/buffer')).headers['content-length'], '1000');
      assert.equal((await get('/latin1')).headers['content-length'], '1');
      assert.equal((await get('/empty')).headers['content-length'], '0');
      assert.equal(block((await get('/own')).stdout), 'Content-Length: 3');
      assert.equal(block((await get('/204')).stdout), 'Status: 204 No Content');
      assert.equal(block((await get('/304')).stdout), 'Status: 304 Not Modified\r\nETag: "x"');
      assert.equal((await get('/streamed')).headers['content-length'], undefined);
    },
  );
});

test('204 and 304 carry no body even when the handler writes one', T, async () => {
  await serve(
    {
      '/204': (_q, res) => {
        res.statusCode = 204;
        res.write('oops');
        res.end('more');
      },
      '/304': (_q, res) => {
        res.statusCode = 304;
        res.end('cached body');
      },
    },
    async (get) => {
      const a = await get('/204');
      assert.equal(a.stdout.toString('latin1'), 'Status: 204 No Content\r\n\r\n');
      const b = await get('/304');
      assert.equal(b.stdout.toString('latin1'), 'Status: 304 Not Modified\r\n\r\n');
    },
  );
});

test('hop-by-hop headers never appear in the block', T, async () => {
  await serve(
    {
      '/hop': (_q, res) => {
        res.setHeader('Connection', 'keep-alive');
        res.setHeader('Transfer-Encoding', 'chunked');
        res.setHeader('Keep-Alive', 'timeout=5');
        res.setHeader('X-Stays', 'yes');
        res.end(String(res.getHeader('connection')));
      },
      '/hop-head': (_q, res) => res.writeHead(200, { Connection: 'close', 'Keep-Alive': 'x', 'X-Stays': 'yes' }).end(),
    },
    async (get) => {
      for (const p of ['/hop', '/hop-head']) {
        const b = block((await get(p)).stdout);
        assert.doesNotMatch(b, /connection|transfer-encoding|keep-alive/i, p);
        assert.match(b, /X-Stays: yes/, p);
      }
      assert.equal((await get('/hop')).body.toString(), 'keep-alive');
    },
  );
});

test(
  'CR, LF or NUL in a header name, value or reason is refused (ERR_FCGI_INVALID_HEADER), nothing sent for it',
  T,
  async () => {
    let codes: string[] = [];
    await serve(
      {
        '/bad': (_q, res) => {
          codes = [
            codeOf(() => res.setHeader('X-A', 'v\r\nSet-Cookie: evil=1')),
            codeOf(() => res.setHeader('X-A', 'v\nSet-Cookie: evil=2')),
            codeOf(() => res.setHeader('X-A', 'v\rX: evil=3')),
            codeOf(() => res.setHeader('X-A', 'v\0evil')),
            codeOf(() => res.setHeader('X-A\r\nSet-Cookie: evil=4', 'v')),
            codeOf(() => res.setHeader('X-\0', 'evil')),
            codeOf(() => res.setHeader('X-A', ['ok', 'bad\r\nevil: 5'])),
            codeOf(() => res.appendHeader('X-A', 'bad\nevil: 6')),
            codeOf(() => res.writeHead(200, 'OK\r\nSet-Cookie: evil=7')),
            codeOf(() => res.writeHead(200, { 'X-B': 'bad\r\nevil: 8' })),
          ];
          res.setHeader('X-Fine', 'fine');
          res.end('done');
        },
        // A reason assigned directly bypasses writeHead: it must still not reach the block.
        '/reason': (_q, res) => {
          res.statusMessage = 'OK\r\nSet-Cookie: evil=9';
          res.end('body');
        },
      },
      async (get) => {
        const r = await get('/bad');
        assert.deepEqual(codes, Array(10).fill('ERR_FCGI_INVALID_HEADER'));
        assert.doesNotMatch(r.stdout.toString('latin1'), /evil/);
        assert.equal(block(r.stdout), 'X-Fine: fine\r\nContent-Length: 4');
        const reason = await get('/reason');
        assert.doesNotMatch(reason.stdout.toString('latin1'), /evil/);
        assert.equal(reason.status, 500);
      },
    );
  },
);

test('HEAD: header block only, with the Content-Length the GET would have', T, async () => {
  await serve(
    {
      '/page': (_q, res) => {
        res.setHeader('Content-Type', 'text/html');
        res.end('<p>hello</p>');
      },
      '/written': (_q, res) => {
        res.write('abc');
        res.print('def');
        res.end('ghi');
      },
    },
    async (get) => {
      const g = await get('/page');
      const h = await get('/page', 'HEAD');
      assert.equal(g.body.toString(), '<p>hello</p>');
      assert.equal(block(h.stdout), block(g.stdout));
      assert.equal(h.headers['content-length'], '12');
      assert.equal(h.body.length, 0);
      const w = await get('/written', 'HEAD');
      assert.equal(w.stdout.toString('latin1'), 'Status: 200 OK\r\n\r\n');
      assert.equal(w.appStatus, 0);
    },
  );
});

test('a raw peer sees exactly one STDOUT stream end and END_REQUEST after the block', T, async () => {
  await withServer(
    (_q, res) => res.status(404).end('nf'),
    async ({ path }) => {
      const r = await send(path, nginxParams());
      assert.deepEqual(r.records.map((x) => [x.type, x.content.length]).slice(-2), [
        [6, 0],
        [3, 8],
      ]);
      assert.equal(r.stdout.toString('latin1'), 'Status: 404 Not Found\r\nContent-Length: 2\r\n\r\nnf');
    },
  );
});
