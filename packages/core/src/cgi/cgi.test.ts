// serveCgi() over in-memory stdio: the response goes to stdout as a CGI header block and body (no
// FastCGI records), with stdout's backpressure; stderr gets diagnostics; stdin gives CONTENT_LENGTH
// bytes; a closed stdout aborts the request.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { FcgiRequest, FcgiResponse } from '../http/index.js';
import { serveCgi } from './cgi.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A stdout that keeps what it gets; `slow`: a small buffer drained a little later each time. */
function sink(slow = false): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: slow ? 4096 : 16384,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (slow) setImmediate(cb);
      else cb();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

function env(method: string, uri: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    REMOTE_ADDR: '127.0.0.1',
    ...extra,
  };
}

describe('serveCgi', () => {
  it('writes the CGI header block and the body to stdout, and nothing else', async () => {
    const out = sink();
    const err = sink();
    await serveCgi(
      (req: FcgiRequest, res: FcgiResponse) => {
        res.setHeader('Content-Type', 'text/plain');
        res.err('a line for the log');
        res.end(`hello ${req.url}`);
      },
      { env: env('GET', '/x?y=1'), stdin: new PassThrough(), stdout: out.stream, stderr: err.stream },
    );
    assert.equal(out.bytes().toString('latin1'), 'Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello /x?y=1');
    assert.match(
      err.bytes().toString(),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[req \d+-\d+\] GET \/x\?y=1: a line for the log\n$/,
    );
  });

  it('reads CONTENT_LENGTH bytes of stdin and resolves though stdin stays open', async () => {
    const stdin = new PassThrough();
    stdin.write('name=Zo%C3%AB&more-than-announced');
    const out = sink();
    await serveCgi(
      async (req: FcgiRequest, res: FcgiResponse) => {
        res.end(`${await req.text()}|${req.headers['content-length']}`);
      },
      { env: env('POST', '/f', { CONTENT_LENGTH: '13' }), stdin, stdout: out.stream, stderr: sink().stream },
    );
    assert.match(out.bytes().toString(), /\r\n\r\nname=Zo%C3%AB\|13$/);
  });

  it("streams a 1 MB response with stdout's backpressure: write() returns false, every byte arrives", async () => {
    const data = randomBytes(1024 * 1024);
    const out = sink(true);
    let refused = 0;
    await serveCgi(
      (_req: FcgiRequest, res: FcgiResponse) => {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(data.length));
        let at = 0;
        const pump = () => {
          while (at < data.length) {
            const ok = res.write(data.subarray(at, at + 16384));
            at += 16384;
            if (!ok) {
              refused++;
              return void res.once('drain', pump);
            }
          }
          res.end();
        };
        pump();
      },
      { env: env('GET', '/big'), stdin: new PassThrough(), stdout: out.stream, stderr: sink().stream },
    );
    const bytes = out.bytes();
    const split = bytes.indexOf('\r\n\r\n') + 4;
    assert.equal(
      bytes.subarray(0, split).toString('latin1'),
      `Content-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`,
    );
    assert.equal(sha256(bytes.subarray(split)), sha256(data));
    assert.ok(refused > 0, 'write() returned false at least once');
  });

  it('a handler error: a 500 on stdout, the stack on stderr', async () => {
    const out = sink();
    const err = sink();
    await serveCgi(
      () => {
        throw new Error('boom');
      },
      { env: env('GET', '/t'), stdin: new PassThrough(), stdout: out.stream, stderr: err.stream },
    );
    assert.match(
      out.bytes().toString(),
      /^Status: 500 Internal Server Error\r\n[\s\S]*\r\n\r\n500 Internal Server Error\n$/,
    );
    assert.match(err.bytes().toString(), /Z \[req \d+-\d+\] GET \/t: Error: boom\n\s+at /);
  });

  it('stdout failing (the web server closed the pipe) aborts the request and resolves', async () => {
    const events: string[] = [];
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    await serveCgi(
      (req: FcgiRequest, res: FcgiResponse) => {
        req.on('aborted', () => events.push('aborted'));
        res.on('close', () => events.push('close'));
        res.write('first bytes');
      },
      { env: env('GET', '/gone'), stdin: new PassThrough(), stdout, stderr: sink().stream },
    );
    assert.deepEqual(events, ['aborted', 'close']);
  });
});
