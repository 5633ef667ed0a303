// A handler that throws or rejects: the error response, FCGI_STDERR, END_REQUEST, and the server
// serving on afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FcgiRequest, FcgiResponse } from '@fcgi/core';
import { RawClient } from './helpers/raw-client.js';
import { nginxParams, request, splitCgi, withServer } from './helpers/http-harness.js';

const T = { timeout: 10_000 };
type Route = (req: FcgiRequest, res: FcgiResponse) => unknown;

class Boom extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly expose?: boolean,
  ) {
    super(message);
  }
}

/** Marks where the stack trace came from, to find it on STDERR. */
function throwingFrame(): never {
  throw new Error('sync failure');
}

const routes: Record<string, Route> = {
  '/ok': (req, res) => res.end(`ok ${req.url}`),
  '/sync': (_q, res) => {
    res.setHeader('X-Before-Throw', 'should vanish');
    res.setHeader('Set-Cookie', ['session=leak']);
    res.statusCode = 201;
    res.statusMessage = 'Made';
    throwingFrame();
  },
  '/async': async (_q, res) => {
    res.setHeader('X-Before-Throw', 'should vanish');
    await sleep(5);
    throw new Error('async failure');
  },
  // biome-ignore lint/suspicious/noThenProperty: a thenable that rejects is what this route tests
  '/thenable': () => ({ then: (_ok: unknown, fail: (e: unknown) => void) => fail(new Error('thenable failure')) }),
  '/not-an-error': () => {
    throw 'a string'; // a non-Error thrown on purpose
  },
  '/exposed': () => {
    throw new Boom('no such widget', 404, true);
  },
  '/hidden-4xx': () => {
    throw new Boom('internal detail', 403);
  },
  '/exposed-5xx': () => {
    throw new Boom('db password wrong', 503, true);
  },
  '/after-headers': async (_q, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.write('partial ');
    await sleep(5);
    throw new Error('failed mid-body');
  },
  '/after-headers-sync': (_q, res) => {
    res.write('partial');
    throw new Error('failed mid-body, sync');
  },
};

const handlerErrors: string[] = [];

function serve(fn: (path: string) => Promise<void>): Promise<void> {
  return withServer(
    (req, res) => routes[req.path]!(req, res),
    ({ path }) => fn(path),
    {
      onHandlerError: (err, req) => handlerErrors.push(`${req.url}: ${err.message}`),
    },
  );
}

const get = (path: string, uri: string) => request(path, nginxParams({ REQUEST_URI: uri }));

test('a handler that throws synchronously: 500, stack on STDERR, END_REQUEST; the server serves on', T, async () => {
  await serve(async (path) => {
    const r = await get(path, '/sync');
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), '500 Internal Server Error\n');
    assert.equal(r.appStatus, 0);
    assert.equal(r.protocolStatus, 0);
    const err = r.stderr.toString();
    assert.match(err, /Z \[req \d+-\d+\] GET \/sync: Error: sync failure\n\s+at throwingFrame /);
    // Headers (and status) set before the throw are not in the 500 response.
    assert.equal(r.headers['x-before-throw'], undefined);
    assert.equal(r.headers['set-cookie'], undefined);
    assert.match(r.stdout.toString('latin1'), /^Status: 500 Internal Server Error\r\n/);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await get(path, '/ok')).body.toString(), 'ok /ok');
  });
});

test('an async handler that rejects (or a rejecting thenable, or a thrown non-Error): the same', T, async () => {
  await serve(async (path) => {
    for (const [uri, message] of [
      ['/async', 'async failure'],
      ['/thenable', 'thenable failure'],
      ['/not-an-error', 'a string'],
    ]) {
      const r = await get(path, uri!);
      assert.equal(r.status, 500, uri);
      assert.equal(r.headers['x-before-throw'], undefined, uri);
      assert.match(r.stderr.toString(), new RegExp(`\\] GET ${uri}: .*${message}`), uri);
      assert.equal(r.appStatus, 0, uri);
    }
    assert.equal((await get(path, '/ok')).body.toString(), 'ok /ok');
  });
});

test('an error with status 404 and expose: true answers 404 with its message; others stay generic', T, async () => {
  await serve(async (path) => {
    let r = await get(path, '/exposed');
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), 'no such widget\n');
    r = await get(path, '/hidden-4xx');
    assert.equal(r.status, 403);
    assert.equal(r.body.toString(), '403 Forbidden\n');
    assert.doesNotMatch(r.body.toString(), /internal detail/);
    r = await get(path, '/exposed-5xx');
    assert.equal(r.status, 503);
    assert.doesNotMatch(r.body.toString(), /password/);
    assert.match(r.stderr.toString(), /db password wrong/); // still logged for the operator
  });
});

test('an error after the headers were sent cuts the response (appStatus 1); the process goes on', T, async () => {
  await serve(async (path) => {
    for (const uri of ['/after-headers', '/after-headers-sync']) {
      const r = await get(path, uri);
      assert.equal(r.appStatus, 1, uri);
      assert.match(
        r.stdout.toString(),
        /^Content-Type: text\/plain\r\n\r\npartial $|^Status: 200 OK\r\n\r\npartial$/,
        uri,
      );
      assert.match(r.stderr.toString(), /failed mid-body/, uri);
    }
    assert.equal((await get(path, '/ok')).body.toString(), 'ok /ok');
  });
});

test('after failed requests a kept connection still serves the next one', T, async () => {
  await serve(async (path) => {
    const client = await RawClient.connect(path);
    try {
      const uris = ['/sync', '/after-headers', '/async', '/ok'];
      for (let i = 0; i < uris.length; i++) {
        client.sendRequest(i + 1, nginxParams({ REQUEST_URI: uris[i]! }), undefined, true);
        await client.reply(i + 1);
      }
      assert.deepEqual(
        uris.map((_u, i) => client.replyOf(i + 1).appStatus),
        [0, 1, 0, 0],
      );
      assert.equal(splitCgi(client.replyOf(1).stdout).status, 500);
      assert.equal(splitCgi(client.replyOf(4).stdout).body.toString(), 'ok /ok');
      assert.equal(client.closed, false);
    } finally {
      client.close();
    }
  });
});

test('onHandlerError sees each handler error', T, () => {
  // Filled by the tests above (they run in order within this file).
  assert.ok(handlerErrors.includes('/sync: sync failure'), handlerErrors.join('; '));
  assert.ok(handlerErrors.includes('/async: async failure'));
  assert.ok(handlerErrors.includes('/not-an-error: a string'));
});
