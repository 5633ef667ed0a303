// The FastCGI client against a real PHP-FPM (Debian's php-fpm): params as $_SERVER, a raw body
// read by php://input, two cookies, a custom status, STDERR from error_log(), kept connections.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FcgiClient, type FcgiClientOptions } from '@fcgi/core';
import { phpFpmSkip, startPhpFpm, type PhpFpm } from './helpers/php-fpm.js';

const ECHO_PHP = `<?php
$body = file_get_contents('php://input');
setcookie('first', 'one');
setcookie('second', 'two', ['httponly' => true]);
header('Status: 299 Custom Thing');
header('X-Php: yes');
error_log('php says hi');
header('Content-Type: application/json');
echo json_encode([
  'method' => $_SERVER['REQUEST_METHOD'] ?? null,
  'uri' => $_SERVER['REQUEST_URI'] ?? null,
  'query' => $_GET,
  'custom' => $_SERVER['HTTP_X_CUSTOM'] ?? null,
  'many' => count(array_filter(array_keys($_SERVER), fn($k) => str_starts_with($k, 'HTTP_X_P'))),
  'len' => strlen($body),
  'md5' => md5($body),
  'pid' => getmypid(),
]);
`;

const REDIRECT_PHP = `<?php
header('Location: /elsewhere');
`;

describe('client against PHP-FPM', { skip: phpFpmSkip() }, () => {
  let fpm: PhpFpm;

  before(
    async () => {
      fpm = await startPhpFpm({ 'echo.php': ECHO_PHP, 'redirect.php': REDIRECT_PHP });
    },
    { timeout: 20_000 },
  );

  after(
    async () => {
      await fpm?.stop();
    },
    { timeout: 15_000 },
  );

  /**
   * A client per test, closed after it: a PHP child serves one connection at a time and a kept
   * idle connection holds its child, so the pool has only 2 children to go round.
   */
  async function withClient(options: Partial<FcgiClientOptions>, fn: (client: FcgiClient) => Promise<void>) {
    const client = new FcgiClient({ target: fpm.socket, timeout: 10_000, ...options });
    try {
      await fn(client);
    } finally {
      await client.close();
    }
  }

  function params(script: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'GET',
      SCRIPT_FILENAME: fpm.script(script),
      SCRIPT_NAME: `/${script}`,
      REQUEST_URI: `/${script}`,
      QUERY_STRING: '',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      REMOTE_ADDR: '127.0.0.1',
      ...extra,
    };
  }

  test('GET: $_SERVER, $_GET, two cookies, a custom status and STDERR', { timeout: 10_000 }, () =>
    withClient({}, async (client) => {
      const many: Record<string, string> = {};
      for (let i = 0; i < 40; i++) many[`HTTP_X_P${i}`] = 'p'.repeat(2000);
      const res = await client.request({
        params: params('echo.php', {
          QUERY_STRING: 'a=1&b=two',
          REQUEST_URI: '/echo.php?a=1&b=two',
          HTTP_X_CUSTOM: 'hello',
          ...many,
        }),
      });
      const text = await res.text();
      assert.equal(res.status, 299, fpm.log());
      assert.equal(res.statusText, 'Custom Thing');
      assert.deepEqual(res.headers['set-cookie'], ['first=one', 'second=two; HttpOnly']);
      assert.equal(res.headers['x-php'], 'yes');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const got = JSON.parse(text);
      assert.equal(got.method, 'GET');
      assert.equal(got.uri, '/echo.php?a=1&b=two');
      assert.deepEqual(got.query, { a: '1', b: 'two' });
      assert.equal(got.custom, 'hello');
      assert.equal(got.many, 40, '80 KB of params over several PARAMS records, no pair split');
      assert.equal(got.len, 0);
      assert.match(res.stderr, /php says hi/);
      assert.deepEqual(await res.done, { appStatus: 0, protocolStatus: 0 });
    }),
  );

  test('POST: a 2 MB Buffer and a 3 MB stream arrive whole (length and md5 from PHP)', { timeout: 20_000 }, () =>
    withClient({}, async (client) => {
      const buf = Buffer.alloc(2 * 1024 * 1024);
      for (let i = 0; i < buf.length; i++) buf[i] = (i * 7) % 256;
      const res = await client.request({
        params: params('echo.php', { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/octet-stream' }),
        body: buf,
      });
      const got = JSON.parse(await res.text());
      assert.equal(got.len, buf.length);
      assert.equal(got.md5, createHash('md5').update(buf).digest('hex'));

      const total = 3 * 1024 * 1024;
      const hash = createHash('md5');
      let made = 0;
      const stream = new Readable({
        read() {
          if (made >= total) return void this.push(null);
          const chunk = Buffer.alloc(50_000, made % 251).subarray(0, Math.min(50_000, total - made));
          made += chunk.length;
          hash.update(chunk);
          this.push(chunk);
        },
      });
      const res2 = await client.request({
        params: params('echo.php', {
          REQUEST_METHOD: 'POST',
          CONTENT_TYPE: 'application/octet-stream',
          CONTENT_LENGTH: String(total),
        }),
        body: stream,
      });
      const got2 = JSON.parse(await res2.text());
      assert.equal(got2.len, total);
      assert.equal(got2.md5, hash.digest('hex'));
    }),
  );

  test('Location without Status is a 302', { timeout: 10_000 }, () =>
    withClient({}, async (client) => {
      const res = await client.request({ params: params('redirect.php') });
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, '/elsewhere');
      await res.text();
    }),
  );

  test(
    'kept connections: 10 sequential requests are served by one PHP child over one connection',
    { timeout: 15_000 },
    () =>
      withClient({}, async (client) => {
        const pids = new Set<number>();
        for (let i = 0; i < 10; i++)
          pids.add(JSON.parse(await (await client.request({ params: params('echo.php') })).text()).pid);
        assert.equal(pids.size, 1);
        assert.deepEqual(client.stats, { idle: 1, busy: 0, connecting: 0, queued: 0 });
      }),
  );

  test('6 concurrent requests over maxConnections=2 (as many as PHP children) all succeed', { timeout: 15_000 }, () =>
    withClient({ maxConnections: 2 }, async (client) => {
      const all = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          client
            .request({ params: params('echo.php', { QUERY_STRING: `i=${i}` }) })
            .then(async (r) => JSON.parse(await r.text()).query.i),
        ),
      );
      assert.deepEqual(all, ['0', '1', '2', '3', '4', '5']);
      assert.equal(client.stats.idle, 2);
    }),
  );
});
