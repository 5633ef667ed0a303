// A request followed at once by a half-close (FIN): answered when the handler ends before the FIN
// is read, else aborted (req.signal, reason ERR_FCGI_CONNECTION_LOST) and nothing sent. Decided
// so on purpose: a FastCGI web server never half-closes to wait for an answer, it closes to abort
// (spec 5.4), and the abort signal is what stops work for a client that went away. node:http
// (by default) and Go's net/http/fcgi do the same; the node:http case is checked here alongside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type FcgiServer } from '@fcgi/core';
import { getParams, listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

type Seen = { reason: unknown; ran: boolean };

/** The handler answers after `delay` ms (0: at once, before the FIN is read); what it saw. */
function handler(delay: number) {
  const seen: Seen = { reason: null, ran: false };
  const h = (req: FcgiRequest, res: FcgiResponse) => {
    seen.ran = true;
    req.signal.addEventListener('abort', () => (seen.reason = req.signal.reason));
    if (delay === 0) return void res.end('hello');
    setTimeout(() => res.end('hello'), delay);
  };
  return { seen, h };
}

/** One request to a server whose handler answers after `delay` ms, a FIN at once, then `check`; stops the server. */
async function requestThenFin(
  delay: number,
  check: (c: RawClient, seen: Seen, server: FcgiServer) => Promise<void>,
): Promise<void> {
  const { seen, h } = handler(delay);
  const server = createFcgiServer(h, { onConnectionError: () => {} });
  const l = await listenForTest(server, 'unix');
  try {
    const c = await l.connect({ allowHalfOpen: true });
    c.sendRequest(1, getParams('/'), undefined, true);
    c.socket.end();
    await check(c, seen, server);
  } finally {
    await l.stop();
  }
}

test('request, then FIN at once, handler ends before the FIN is read: answered whole', {
  timeout: 10_000,
}, async () => {
  await requestThenFin(0, async (c, seen) => {
    const reply = await c.reply(1, 3000);
    assert.equal(parseCgi(reply.stdout).body.toString(), 'hello');
    await c.closedByPeer(3000);
    assert.equal(seen.reason, null);
  });
});

test('request, then FIN at once, handler ends later: aborted (ERR_FCGI_CONNECTION_LOST), nothing sent, connection closed', {
  timeout: 10_000,
}, async () => {
  await requestThenFin(100, async (c, seen, server) => {
    await c.closedByPeer(3000);
    await sleep(200);
    assert.ok(seen.ran);
    assert.equal((seen.reason as { code?: string } | null)?.code, 'ERR_FCGI_CONNECTION_LOST');
    assert.deepEqual(c.records, [], 'nothing was sent after the FIN');
    assert.equal(server.activeRequests, 0);
  });
});

test('node:http does the same: answered only when the handler ends before the FIN is read', {
  timeout: 10_000,
}, async () => {
  const answers: string[] = [];
  for (const delay of [0, 100]) {
    const server = createServer((_req, res) => (delay ? setTimeout(() => res.end('hello'), delay) : res.end('hello')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const got = await new Promise<string>((resolve) => {
        const s = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
        let buf = '';
        s.on('data', (d) => (buf += d));
        s.on('error', () => {});
        s.on('close', () => resolve(buf));
        s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      answers.push(got.startsWith('HTTP/1.1 200') ? 'answered' : got === '' ? 'nothing' : got);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }
  assert.deepEqual(answers, ['answered', 'nothing']);
});
