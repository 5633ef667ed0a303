// res.send/json/sendStatus over real FastCGI: default types, Content-Length, ETag and 304, HEAD,
// 204/205, json settings, streams with backpressure, and a core response upgraded in place.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppResponse, createApp, type App, type AppRequest, type Handler } from '@fcgi/core';
import { nginxParams, request, splitCgi, withServer } from './helpers/http-harness.js';
import { RawClient } from './helpers/raw-client.js';

const T = { timeout: 10_000 };
type Route = (req: AppRequest, res: AppResponse) => unknown;
type Get = (uri: string, extra?: Record<string, string>) => ReturnType<typeof request>;

function params(uri: string, extra: Record<string, string> = {}) {
  return nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0]!, ...extra });
}

function serveRoutes(
  routes: Record<string, Route>,
  fn: (get: Get, path: string) => Promise<void>,
  setup?: (app: App) => void,
) {
  const app = createApp();
  setup?.(app);
  app.use((req, res, next) => (routes[req.path] ? routes[req.path]!(req, res) : next()));
  return withServer(app as unknown as Handler, ({ path }) =>
    fn((uri, extra) => request(path, params(uri, extra)), path),
  );
}

function block(stdout: Buffer): string {
  return stdout.subarray(0, stdout.indexOf('\r\n\r\n')).toString('latin1');
}

// Tags Express 5.3 sent for the same bodies.
const TAG = {
  html: 'W/"9-ttvLQjlZejsM8OHFMxIScRaHZZo"', // <p>hi</p>
  abc: 'W/"3-qZk+NkcGgWq6PiVxeFDCbJzQ2J0"',
  x: 'W/"1-EfatjsUqKYSrqv18O1FlA3hcIHI"',
  empty: 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"',
  n42: 'W/"2-ks/Os51X2RTtixTQ43ZD3geXrlY"',
  ignored: 'W/"7-ASG8BeCUXfpjC4DLqG4ge21MqCk"',
};

describe('res.send and friends', () => {
  it('send: string HTML, set type gains charset, bytes octet-stream, null empty, the rest JSON', T, async () => {
    await serveRoutes(
      {
        '/html': (_q, res) => res.send('<p>hi</p>'),
        '/typed': (_q, res) => {
          res.setHeader('Content-Type', 'text/plain');
          res.send('x');
        },
        '/buf': (_q, res) => res.send(Buffer.from('abc')),
        '/u8': (_q, res) => res.send(new Uint8Array([0x61, 0x62, 0x63])),
        '/null': (_q, res) => res.send(null),
        '/num': (_q, res) => res.send(42),
        '/bool': (_q, res) => res.send(false),
        '/arr': (_q, res) => res.send([1, 'a', null]),
        '/utf8': (_q, res) => res.send('ü€'),
        '/nothing': (_q, res) => res.send(),
        '/vnd': (_q, res) => res.type('application/vnd.api+json').json({}),
      },
      async (get) => {
        const html = await get('/html');
        assert.equal(
          html.stdout.toString('latin1'),
          `Content-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\nETag: ${TAG.html}\r\n\r\n<p>hi</p>`,
        );
        assert.equal(
          block((await get('/typed')).stdout),
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nETag: ${TAG.x}`,
        );
        for (const uri of ['/buf', '/u8']) {
          const r = await get(uri);
          assert.equal(
            r.stdout.toString('latin1'),
            `Content-Type: application/octet-stream\r\nContent-Length: 3\r\nETag: ${TAG.abc}\r\n\r\nabc`,
            uri,
          );
        }
        assert.equal((await get('/null')).stdout.toString('latin1'), `Content-Length: 0\r\nETag: ${TAG.empty}\r\n\r\n`);
        assert.equal(
          (await get('/num')).stdout.toString('latin1'),
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\nETag: ${TAG.n42}\r\n\r\n42`,
        );
        assert.equal((await get('/bool')).body.toString(), 'false');
        const arr = await get('/arr');
        assert.equal(arr.body.toString(), '[1,"a",null]');
        assert.equal(arr.headers['content-type'], 'application/json; charset=utf-8');
        const utf8 = await get('/utf8');
        assert.equal(utf8.headers['content-length'], '5');
        assert.equal(utf8.body.toString(), 'ü€');
        assert.equal((await get('/nothing')).stdout.toString('latin1'), 'Content-Length: 0\r\n\r\n');
        assert.equal(
          block((await get('/vnd')).stdout),
          'Content-Type: application/vnd.api+json; charset=utf-8\r\nContent-Length: 2\r\nETag: W/"2-vyGp6PvFo4RvsFtPoIWeCReyIC8"',
        );
      },
    );
  });

  it("json: 'json spaces', 'json replacer', 'json escape'", T, async () => {
    await serveRoutes(
      {
        '/j': (_q, res) => res.json({ a: '<b>&</b>', secret: 1 }),
      },
      async (get) => {
        const r = await get('/j');
        assert.equal(r.body.toString(), '{\n  "a": "\\u003cb\\u003e\\u0026\\u003c/b\\u003e"\n}');
        assert.deepEqual(JSON.parse(r.body.toString()), { a: '<b>&</b>' });
        assert.equal(r.headers['content-length'], String(r.body.length));
      },
      (app) => {
        app.set('json spaces', 2);
        app.set('json replacer', (k: string, v: unknown) => (k === 'secret' ? undefined : v));
        app.set('json escape', true);
      },
    );
  });

  it(
    'ETag + If-None-Match / If-Modified-Since: 304 with no body or body headers; only GET/HEAD and 2xx',
    T,
    async () => {
      await serveRoutes(
        {
          '/e': (_q, res) => res.send('<p>hi</p>'),
          '/lm': (_q, res) => {
            res.set('Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT');
            res.send('x');
          },
          '/404': (_q, res) => res.status(404).send('<p>hi</p>'),
          '/own': (_q, res) => res.set('ETag', '"v1"').send('x'),
        },
        async (get) => {
          const notModified = `Status: 304 Not Modified\r\nETag: ${TAG.html}\r\n\r\n`;
          assert.equal((await get('/e', { HTTP_IF_NONE_MATCH: TAG.html })).stdout.toString('latin1'), notModified);
          // Weak comparison: the strong form matches; so do a list and '*'.
          assert.equal((await get('/e', { HTTP_IF_NONE_MATCH: TAG.html.slice(2) })).status, 304);
          assert.equal((await get('/e', { HTTP_IF_NONE_MATCH: `"a", ${TAG.html}` })).status, 304);
          assert.equal((await get('/e', { HTTP_IF_NONE_MATCH: '*' })).status, 304);
          assert.equal(
            (await get('/e', { REQUEST_METHOD: 'HEAD', HTTP_IF_NONE_MATCH: TAG.html })).stdout.toString('latin1'),
            notModified,
          );
          const other = await get('/e', { HTTP_IF_NONE_MATCH: 'W/"other"' });
          assert.equal(other.status, 200);
          assert.equal(other.body.toString(), '<p>hi</p>');
          assert.equal((await get('/e', { HTTP_IF_NONE_MATCH: TAG.html, HTTP_CACHE_CONTROL: 'no-cache' })).status, 200);
          const post = await get('/e', { REQUEST_METHOD: 'POST', HTTP_IF_NONE_MATCH: TAG.html });
          assert.equal(post.status, 200);
          assert.equal(post.headers.etag, TAG.html); // Express tags every send, whatever the method
          assert.equal((await get('/404', { HTTP_IF_NONE_MATCH: TAG.html })).status, 404);

          const since = 'Wed, 21 Oct 2015 07:28:00 GMT';
          assert.equal(
            (await get('/lm', { HTTP_IF_MODIFIED_SINCE: since })).stdout.toString('latin1'),
            `Status: 304 Not Modified\r\nLast-Modified: ${since}\r\nETag: ${TAG.x}\r\n\r\n`,
          );
          assert.equal((await get('/lm', { HTTP_IF_MODIFIED_SINCE: 'Tue, 20 Oct 2015 07:28:00 GMT' })).status, 200);

          const own = await get('/own');
          assert.equal(own.headers.etag, '"v1"');
          assert.equal((await get('/own', { HTTP_IF_NONE_MATCH: '"v1"' })).status, 304);
        },
      );
    },
  );

  it("the 'etag' setting: false, 'strong', a function; a sub-app's own default; set() refuses bad", T, async () => {
    const seen: unknown[] = [];
    const run = async (value: unknown, check: (r: Awaited<ReturnType<Get>>) => void) => {
      await serveRoutes(
        { '/e': (_q, res) => res.send('<p>hi</p>') },
        async (get) => check(await get('/e')),
        (app) => app.set('etag', value),
      );
    };
    await run(false, (r) => assert.equal(r.headers.etag, undefined));
    await run('strong', (r) => assert.equal(r.headers.etag, TAG.html.slice(2)));
    await run(true, (r) => assert.equal(r.headers.etag, TAG.html));
    await run(
      (body: Buffer, enc: unknown) => {
        seen.push(Buffer.isBuffer(body), body.toString(), enc);
        return '"custom"';
      },
      (r) => assert.equal(r.headers.etag, '"custom"'),
    );
    assert.deepEqual(seen, [true, '<p>hi</p>', undefined]);
    // As Express: app.set() refuses it (it used to be a 500 at each request).
    assert.throws(
      () => createApp().set('etag', 'sometimes'),
      /^TypeError: unknown value for etag function: sometimes$/,
    );

    const parent = createApp();
    const child = createApp();
    parent.set('etag', false);
    child.use((_q, res) => res.send('<p>hi</p>'));
    parent.use('/sub', child);
    await withServer(parent as unknown as Handler, async ({ path }) => {
      const r = await request(path, params('/sub/x'));
      assert.equal(r.body.toString(), '<p>hi</p>');
      // As Express: a sub-app has its own 'etag' default ('weak'), the parent's false does not reach it.
      assert.equal(r.headers.etag, TAG.html);
    });
  });

  it('HEAD: the GET headers and Content-Length, no body; 204 and 205 strip the body', T, async () => {
    await serveRoutes(
      {
        '/html': (_q, res) => res.send('<p>hi</p>'),
        '/json': (_q, res) => res.json({ a: 1 }),
        '/204': (_q, res) => res.status(204).send('ignored'),
        '/205': (_q, res) => res.status(205).send('ignored'),
        '/status': (_q, res) => res.sendStatus(404),
        '/odd': (_q, res) => res.sendStatus(599),
      },
      async (get) => {
        const head = await get('/html', { REQUEST_METHOD: 'HEAD' });
        assert.equal(
          head.stdout.toString('latin1'),
          `Content-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\nETag: ${TAG.html}\r\n\r\n`,
        );
        const json = await get('/json', { REQUEST_METHOD: 'HEAD' });
        assert.equal(json.headers['content-length'], '7');
        assert.equal(json.body.length, 0);
        assert.equal(
          (await get('/204')).stdout.toString('latin1'),
          `Status: 204 No Content\r\nETag: ${TAG.ignored}\r\n\r\n`,
        );
        assert.equal(
          (await get('/205')).stdout.toString('latin1'),
          `Status: 205 Reset Content\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\nETag: ${TAG.ignored}\r\n\r\n`,
        );
        const status = await get('/status');
        assert.equal(
          block(status.stdout),
          'Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\nETag: W/"9-0gXL1ngzMqISxa6S1zx3F4wtLyg"',
        );
        assert.equal(status.body.toString(), 'Not Found');
        const odd = await get('/odd');
        assert.equal(
          odd.stdout.toString('latin1'),
          'Status: 599 Unknown\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nETag: W/"3-E7ckkFUw1N5b+utxS8LH8fLuKZI"\r\n\r\n599',
        );
      },
    );
  });

  it(
    'streams: a Readable or web ReadableStream is piped (octet-stream unless typed); HEAD reads nothing',
    T,
    async () => {
      let headSource: Readable | undefined;
      await serveRoutes(
        {
          '/s': (_q, res) => res.send(Readable.from(['a', 'b', 'c'])),
          '/typed': (_q, res) => res.type('txt').send(Readable.from([Buffer.from('x'), Buffer.from('y')])),
          '/web': (_q, res) =>
            res.send(
              new ReadableStream({
                start(c) {
                  c.enqueue(new TextEncoder().encode('web'));
                  c.close();
                },
              }),
            ),
          '/head': (_q, res) => res.send((headSource = Readable.from(['never']))),
        },
        async (get) => {
          assert.equal(
            (await get('/s')).stdout.toString('latin1'),
            'Content-Type: application/octet-stream\r\n\r\nabc',
          );
          assert.equal(
            (await get('/typed')).stdout.toString('latin1'),
            'Content-Type: text/plain; charset=utf-8\r\n\r\nxy',
          );
          assert.equal((await get('/web')).body.toString(), 'web');
          assert.equal(
            (await get('/head', { REQUEST_METHOD: 'HEAD' })).stdout.toString('latin1'),
            'Content-Type: application/octet-stream\r\n\r\n',
          );
          assert.equal(headSource?.destroyed, true);
        },
      );
    },
  );

  it('streams: an error before any byte is a 500; after some bytes the response is cut (appStatus 1)', T, async () => {
    await serveRoutes(
      {
        '/early': (_q, res) =>
          res.send(
            new Readable({
              read() {
                this.destroy(new Error('disk on fire'));
              },
            }),
          ),
        '/late': (_q, res) => {
          let n = 0;
          res.send(
            new Readable({
              read() {
                if (n++ === 0) this.push('partial');
                else setImmediate(() => this.destroy(new Error('gone midway')));
              },
            }),
          );
        },
      },
      async (get) => {
        const early = await get('/early');
        assert.equal(early.status, 500);
        assert.match(early.stderr.toString(), /disk on fire/);
        const late = await get('/late');
        assert.equal(late.appStatus, 1);
        assert.equal(splitCgi(late.stdout).body.toString(), 'partial');
        assert.match(late.stderr.toString(), /gone midway/);
      },
    );
  });

  it('streams: backpressure pauses the source while the client does not read; all bytes arrive after', {
    timeout: 30_000,
  }, async () => {
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let produced = 0;
    await serveRoutes(
      {
        '/big': (_q, res) =>
          res.send(
            new Readable({
              read() {
                if (produced >= total) return void this.push(null);
                produced += chunk.length;
                this.push(chunk);
              },
            }),
          ),
      },
      async (_get, path) => {
        const client = await RawClient.connect(path);
        try {
          client.socket.pause();
          client.sendRequest(1, params('/big'));
          await sleep(400);
          const whilePaused = produced;
          await sleep(200);
          assert.equal(produced, whilePaused, 'the source must stay paused while nothing drains');
          assert.ok(whilePaused < total / 4, `produced ${whilePaused} bytes with the client not reading`);
          client.socket.resume();
          const reply = await client.reply(1, 25_000);
          assert.equal(reply.appStatus, 0);
          assert.equal(splitCgi(reply.stdout).body.length, total);
        } finally {
          client.close();
        }
      },
    );
  });

  it('streams: the client going away destroys the source', T, async () => {
    let source: Readable | undefined;
    await serveRoutes(
      {
        '/forever': (_q, res) =>
          res.send(
            (source = new Readable({
              read() {
                setTimeout(() => this.push('tick'), 5);
              },
            })),
          ),
      },
      async (_get, path) => {
        const client = await RawClient.connect(path);
        client.sendRequest(1, params('/forever'));
        await client.until(() => client.records.length > 1);
        client.close();
        const deadline = Date.now() + 3000;
        while (!source?.destroyed && Date.now() < deadline) await sleep(20);
        assert.equal(source?.destroyed, true);
      },
    );
  });

  it('a core response upgraded in place (plain server, app called as a function) has every helper', T, async () => {
    const app = createApp();
    app.set('cookie secret', 'k');
    let upgraded = false;
    app.use((_q, res) => {
      upgraded = res instanceof AppResponse;
      res.cookie('s', 'v', { signed: true }).vary('Accept').json({ ok: true });
    });
    // A handler without app.Request/app.Response: the server makes plain core objects.
    await withServer(
      (req, res) => app(req, res),
      async ({ path }) => {
        const r = await request(path, params('/'));
        assert.equal(upgraded, true);
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), '{"ok":true}');
        assert.match(String(r.headers['set-cookie']), /^s=s%3Av\.[^;]+; Path=\/$/);
        assert.equal(r.headers.vary, 'Accept');
        assert.ok(r.headers.etag);
      },
    );
  });
});
