// `fcgi gateway` in front of an app that answers badly (issue 16, items 4-6), as nginx handles it:
// a control character in a header or a 1xx as the only answer is a 502 and the gateway lives on;
// body bytes past Content-Length never reach the client; two different Content-Lengths are a 502;
// an answer cut short closes the client's connection; a Proxy: header never reaches the app.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGateway } from '@fcgi/core';
import { encodeEndRequest } from '@fcgi/core/protocol';
import {
  HostileApp,
  answer,
  exchange,
  readAnswer,
  startCliGateway,
  stdout,
  type CliGateway,
  type HttpAnswer,
} from './helpers/hostile-fcgi.js';

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;

describe('`fcgi gateway` and a hostile upstream', { timeout: 60_000 }, () => {
  let dir = '';
  let app: HostileApp | undefined;
  let gw: CliGateway | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-gw-hostile-'));
    app = await HostileApp.start(dir);
    gw = await startCliGateway(app.socket);
  });
  after(async () => {
    await gw?.stop();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** One request on its own connection; the first answer, read strictly, and how the connection ended. */
  async function one(
    path: string,
    extra = '',
    waitMs = 3000,
  ): Promise<{ answer: HttpAnswer; closed: boolean; ms: number }> {
    const x = await exchange(gw!.port, GET(path, extra), waitMs);
    const a = readAnswer(x.raw);
    if (typeof a === 'string') assert.fail(`${a}: ${JSON.stringify(x.raw.slice(0, 300))}`);
    return { answer: a, closed: x.closed, ms: x.ms };
  }

  async function stillServes(): Promise<void> {
    app!.set('ok', { bytes: answer('Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'), close: false });
    const r = await one('/s/ok', 'Connection: close\r\n');
    assert.equal(r.answer.status, 200);
    assert.equal(r.answer.body, 'ok');
    assert.equal(gw!.child.exitCode, null, `the gateway exited: ${gw!.stderr()}`);
  }

  it('a control character in a header value (PHP lets \\x01 through): 502, logged, and the gateway lives on', async () => {
    for (const [key, cgi] of [
      ['ctl1', 'Content-Type: text/plain\r\nX-Echo: a\x01b\r\n\r\nbody'],
      ['ctl7f', 'Content-Type: text/plain\r\nX-Echo: \x7f\r\n\r\nbody'],
      ['ctlreason', 'Status: 200 O\x01K\r\nContent-Type: text/plain\r\n\r\nbody'],
    ] as const) {
      app!.set(key, { bytes: answer(cgi), close: false });
      const r = await one(`/s/${key}?%01`, 'Connection: close\r\n');
      assert.equal(r.answer.status, 502, key);
      assert.equal(r.answer.body, '502 Bad Gateway\n');
      await stillServes();
    }
    assert.match(gw!.stderr(), /GET \/s\/ctl1\?%01: upstream sent a control character in header "X-Echo"/);
  });

  it("in process too (serve()'s development gateway): the client gets its 502 instead of no answer", async () => {
    const logged: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((text: string) => logged.push(String(text)) > 0) as typeof process.stderr.write;
    const inproc = createGateway({ to: app!.socket });
    try {
      await new Promise<void>((resolve) => inproc.server.listen(0, '127.0.0.1', resolve));
      const port = (inproc.server.address() as { port: number }).port;
      app!.set('ctlin', { bytes: answer('X-Echo: \x01\r\n\r\nbody'), close: false });
      const x = await exchange(port, GET('/s/ctlin', 'Connection: close\r\n'), 3000);
      assert.match(x.raw, /^HTTP\/1\.1 502 /, JSON.stringify(x.raw.slice(0, 200)));
    } finally {
      process.stderr.write = write;
      await inproc.close();
    }
    assert.match(logged.join(''), /upstream sent a control character in header "X-Echo"/);
  });

  it('Status: 100 or 101 as the only answer is not an interim response: 502', async () => {
    for (const status of ['100 Continue', '101 Switching Protocols', '103 Early Hints']) {
      app!.set('interim', { bytes: answer(`Status: ${status}\r\nUpgrade: websocket\r\n\r\n`), close: false });
      const x = await exchange(gw!.port, GET('/s/interim', 'Connection: close\r\n'), 3000);
      assert.match(x.raw, /^HTTP\/1\.1 502 /, `${status}: ${JSON.stringify(x.raw.slice(0, 200))}`);
      assert.equal((x.raw.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'one status line, no interim one');
    }
    assert.match(gw!.stderr(), /upstream sent status 101 as its final answer/);
  });

  it('body bytes past Content-Length are dropped and the connection closed: no forged second response', async () => {
    const forged = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Forged: yes\r\n\r\nforged';
    app!.set('excess', {
      bytes: answer(`Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello${forged}`),
      close: false,
    });
    // The forged bytes would be read as the answer to the second, pipelined request.
    const x = await exchange(gw!.port, GET('/s/excess') + GET('/s/excess'), 3000);
    const a = readAnswer(x.raw);
    if (typeof a === 'string') return assert.fail(`${a}: ${JSON.stringify(x.raw)}`);
    assert.equal(a.body, 'hello');
    // The second request may get its own answer before the close (Node answers pipelined requests
    // in turn), never the forged one.
    if (a.rest !== '') {
      const b = readAnswer(a.rest);
      if (typeof b === 'string') return assert.fail(`${b} after the first answer: ${JSON.stringify(a.rest)}`);
      assert.equal(b.body, 'hello');
      assert.ok(!b.headers.some(([name]) => name === 'x-forged'), 'the forged answer got through');
      assert.equal(b.rest, '');
    }
    assert.doesNotMatch(x.raw, /X-Forged|forged/);
    assert.ok(x.closed, 'the connection was closed');
    assert.match(gw!.stderr(), /upstream sent more data than specified in "Content-Length: 5"/);
    await stillServes();
  });

  it('two different Content-Lengths: 502; the same one twice passes once', async () => {
    app!.set('twocl', { bytes: answer('Content-Length: 5\r\nContent-Length: 50\r\n\r\nhello'), close: false });
    assert.equal((await one('/s/twocl', 'Connection: close\r\n')).answer.status, 502);
    app!.set('badcl', { bytes: answer('Content-Length: 5x\r\n\r\nhello'), close: false });
    assert.equal((await one('/s/badcl', 'Connection: close\r\n')).answer.status, 502);
    app!.set('samecl', { bytes: answer('Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello'), close: false });
    const same = await one('/s/samecl', 'Connection: close\r\n');
    assert.equal(same.answer.status, 200);
    assert.equal(same.answer.body, 'hello');
    assert.deepEqual(
      same.answer.headers.filter(([n]) => n === 'content-length'),
      [['content-length', '5']],
    );
    assert.match(gw!.stderr(), /upstream sent two different Content-Lengths \(5, 50\)/);
  });

  it('an answer cut short closes the client connection at once instead of keeping it alive', async () => {
    const cases: [string, Buffer, boolean][] = [
      // Fewer bytes than Content-Length, then a clean END_REQUEST.
      ['short', answer('Content-Length: 10\r\n\r\nabcd'), false],
      // No Content-Length (chunked to the client), END_REQUEST with appStatus 1 (@fcgi's "cut").
      ['cut', answer('Content-Type: text/plain\r\n\r\nabcd', 1), false],
      // The app's connection lost mid-body.
      ['lost', stdout('Content-Length: 10\r\n\r\nabcd').subarray(0, -8), true],
    ];
    for (const [key, bytes, close] of cases) {
      app!.set(key, { bytes, close });
      // Keep-alive: a gateway that ends the answer as if whole would leave the client waiting (5 s).
      const x = await exchange(gw!.port, GET(`/s/${key}`), 4000);
      assert.ok(x.closed && x.ms < 2000, `${key}: closed after ${x.ms} ms (closed: ${x.closed})`);
      assert.match(x.raw, /^HTTP\/1\.1 200 /, key);
      assert.equal(readAnswer(x.raw), 'incomplete', `${key}: the client can tell the answer is incomplete`);
    }
    assert.match(gw!.stderr(), /upstream answer cut short: 4 of the 10 bytes of its Content-Length/);
    assert.match(gw!.stderr(), /upstream request ended abnormally \(appStatus 1, protocolStatus 0\)/);
    await stillServes();
  });

  it('a clean answer keeps the connection alive; appStatus 1 with a whole Content-Length body is delivered', async () => {
    app!.set('whole', { bytes: answer('Content-Length: 4\r\n\r\nabcd', 1), close: false });
    const x = await exchange(gw!.port, GET('/s/whole'), 3000);
    const a = readAnswer(x.raw);
    if (typeof a === 'string') return assert.fail(`${a}: ${JSON.stringify(x.raw)}`);
    assert.equal(a.body, 'abcd');
    app!.set('clean', {
      bytes: Buffer.concat([stdout('Content-Length: 4\r\n\r\nabcd', [20, 23]), encodeEndRequest(1, 0, 0)]),
      close: false,
    });
    const k = await exchange(gw!.port, GET('/s/clean'), 1000, (raw) => typeof readAnswer(raw) !== 'string');
    assert.equal(k.closed, false, 'a whole answer keeps the connection');
  });

  it('httpoxy: a Proxy: header never reaches the app as HTTP_PROXY; other headers do', async () => {
    app!.set('env', { bytes: answer('Content-Length: 2\r\n\r\nok'), close: false });
    const r = await one('/s/env', 'Proxy: http://evil.example:3128\r\nX-Proxy: kept\r\nConnection: close\r\n');
    assert.equal(r.answer.status, 200);
    const params = app!.params('env')!;
    assert.equal(params.HTTP_PROXY, undefined);
    assert.equal(params.HTTP_X_PROXY, 'kept');
    assert.equal(params.HTTP_HOST, 'localhost');
  });
});
