// Shows what the web server sent, like phpinfo() for @fcgi. For any method and path it answers
// JSON: method, url, path, query, headers, environ, bodyLength and bodySha256 (hex of the body).
//   ?bytes=N  answers N bytes of application/octet-stream instead (byte i is i % 256)
//   ?sleep=MS waits that long first
//   ?status=N answers with that status
// Run: FCGI_LISTEN=/tmp/echo.sock pnpm exec tsx examples/echo.ts
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type FcgiRequest, type FcgiResponse } from '@fcgi/core';

/** 64 KiB of the download pattern, written again and again. */
const PATTERN = Buffer.alloc(64 * 1024, 0).map((_, i) => i % 256);

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function sendBytes(res: FcgiResponse, total: number): Promise<void> {
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', total);
  let left = total;
  while (left > 0 && !res.destroyed) {
    const n = Math.min(left, PATTERN.length);
    left -= n;
    // Respect backpressure: wait for 'drain' when the web server reads slower than we write.
    if (!res.write(n === PATTERN.length ? PATTERN : PATTERN.subarray(0, n))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end();
}

async function echo(req: FcgiRequest, res: FcgiResponse): Promise<void> {
  const sleepMs = Number(first(req.query.sleep) ?? 0);
  if (sleepMs > 0) await sleep(Math.min(sleepMs, 60_000));
  const bytes = first(req.query.bytes);
  if (bytes !== undefined) return sendBytes(res, Math.max(0, Number(bytes) || 0));

  const hash = createHash('sha256');
  let bodyLength = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bodyLength += chunk.length;
  }
  const status = Number(first(req.query.status) ?? 200);
  res.statusCode = status >= 200 && status <= 999 ? status : 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(
    JSON.stringify(
      {
        method: req.method,
        url: req.url,
        baseUrl: req.baseUrl,
        originalUrl: req.originalUrl,
        path: req.path,
        query: req.query,
        headers: req.headers,
        environ: req.environ,
        bodyLength,
        bodySha256: hash.digest('hex'),
      },
      null,
      2,
    ) + '\n',
  );
}

// serve(): FastCGI on fd 0 or FCGI_LISTEN, one request in a CGI environment, else the dev gateway.
const serving = await serve(echo);
if (serving.mode === 'fastcgi') console.error(`echo: listening on ${JSON.stringify(serving.address)}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void serving.close().then(() => process.exit(0)));
}
