// The production default: an app (createApp() or an unmodified Express app) started by a web
// server — FCGI_LISTEN, CGI — with no NODE_ENV answers a thrown error with neither its message nor
// its stack (both go to the error log); NODE_ENV=development, an explicit app.set('env', ...) and
// the development gateway show them. Real child processes, real sockets.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, exited, signalPid, skipUnless, waitForListener } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx } from './helpers/nginx.js';
import { Child, fcgiGet, parseCgi } from './helpers/raw-client.js';

const SECRET = 'secret-detail-4711';

/** APP_KIND: 'app' (createApp), 'app-dev' (createApp + app.set('env', 'development')), 'express'. */
const APP = `
import express from 'express';
import { createApp, serve } from '@fcgi/core';
const kind = process.env.APP_KIND;
const app = kind === 'express' ? express() : createApp();
if (kind === 'app-dev') app.set('env', 'development');
app.get('/env', (_req, res) => { res.json({ env: app.get('env'), viewCache: app.get('view cache') ?? null }); });
app.get('/throw', () => { throw new Error('${SECRET}'); });
await (kind === 'express' ? serve(app, { port: 0 }) : app.listen(undefined, { port: 0 }));
`;

/** The environment of the child: PATH and what is given, nothing inherited (no NODE_ENV). */
const envOf = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '', ...extra });

interface Answer {
  status: number;
  body: string;
  /** What the error log got: FCGI_STDERR for FastCGI, plus the process's stderr. */
  log: string;
}

/** Starts the app on FCGI_LISTEN, asks `path` over FastCGI, stops it. */
async function viaFastcgi(dir: string, extra: Record<string, string>, path: string): Promise<Answer> {
  const socket = join(dir, `${Math.random().toString(36).slice(2)}.sock`);
  const child = new Child(process.execPath, ['--input-type=module', '-e', APP], {
    env: envOf({ ...extra, FCGI_LISTEN: socket }),
  });
  try {
    await waitForListener(socket, 20_000, () => (child.proc.exitCode !== null ? `exited: ${child.stderr}` : null));
    const r = await fcgiGet(socket, path, 10_000);
    // Let the process's own stderr (Express logs there) arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { status: r.status, body: r.body.toString(), log: r.reply.stderr.toString() + child.stderr };
  } finally {
    await child.stop('SIGKILL');
  }
}

/** Runs the app as a CGI script for one GET of `path`. */
async function viaCgi(extra: Record<string, string>, path: string): Promise<Answer> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', APP], {
    cwd: ROOT,
    env: envOf({
      ...extra,
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: 'Apache/2.4 (test)',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: path,
      SCRIPT_NAME: path,
      QUERY_STRING: '',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'localhost',
    }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdin.end();
  if (!(await exited(child, 20_000))) {
    signalPid(child.pid, 'SIGKILL');
    await exited(child, 2000);
    assert.fail(`the CGI process did not exit; stderr: ${err}`);
  }
  await new Promise((resolve) => setImmediate(resolve));
  const stdout = Buffer.concat(out);
  const crlf = stdout.indexOf('\r\n\r\n');
  const lf = stdout.indexOf('\n\n');
  // parseCgi reads CRLF header blocks; normalise an LF-only block.
  const whole = crlf >= 0 ? stdout : Buffer.from(stdout.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
  assert.ok(crlf >= 0 || lf >= 0, `no CGI header block; stderr: ${err}`);
  const r = parseCgi(whole);
  return { status: r.status, body: r.body.toString(), log: err };
}

/** Starts the app with nothing from a web server: the development gateway; GET `path` over HTTP. */
async function viaGateway(extra: Record<string, string>, path: string): Promise<Answer> {
  const child = new Child(process.execPath, ['--input-type=module', '-e', APP], { env: envOf(extra) });
  try {
    const [, url] = await child.waitFor(/serving on (http:\/\/\S+)/, 20_000);
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}${path}`, { timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { ...r, log: child.stderr };
  } finally {
    await child.stop('SIGKILL');
  }
}

function assertHidden(a: Answer): void {
  assert.equal(a.status, 500);
  assert.doesNotMatch(a.body, new RegExp(SECRET), 'no message for visitors');
  assert.doesNotMatch(a.body, /\bat\s|\[eval|file:|node:/, 'no stack or path for visitors');
  assert.match(a.log, new RegExp(`${SECRET}[\\s\\S]*\\n\\s+at `), 'the stack is in the error log');
}

function assertShown(a: Answer): void {
  assert.equal(a.status, 500);
  assert.match(a.body, new RegExp(`${SECRET}[\\s\\S]*\\bat `), 'the stack is shown');
}

for (const kind of ['app', 'express'] as const) {
  describe(`production by default: ${kind === 'app' ? 'a createApp() app' : 'an unmodified Express app'}`, {
    timeout: 120_000,
  }, () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fcgi-env-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const T = { timeout: 30_000 };

    it(
      'FCGI_LISTEN, no NODE_ENV: env production, no message or stack to the visitor, the stack in the log',
      T,
      async () => {
        const env = await viaFastcgi(dir, { APP_KIND: kind }, '/env');
        assert.deepEqual(JSON.parse(env.body), {
          env: 'production',
          viewCache: true, // Express's consequence of production, for both (views)
        });
        assertHidden(await viaFastcgi(dir, { APP_KIND: kind }, '/throw'));
      },
    );

    it('CGI, no NODE_ENV: no message or stack to the visitor, the stack on stderr', T, async () => {
      assertHidden(await viaCgi({ APP_KIND: kind }, '/throw'));
    });

    it('FCGI_LISTEN with NODE_ENV=development: the stack is shown', T, async () => {
      const env = await viaFastcgi(dir, { APP_KIND: kind, NODE_ENV: 'development' }, '/env');
      assert.equal(JSON.parse(env.body).env, 'development');
      assertShown(await viaFastcgi(dir, { APP_KIND: kind, NODE_ENV: 'development' }, '/throw'));
    });

    it('CGI with NODE_ENV=development: the stack is shown', T, async () => {
      assertShown(await viaCgi({ APP_KIND: kind, NODE_ENV: 'development' }, '/throw'));
    });

    it('the development gateway: env development, the stack is shown', T, async () => {
      const env = await viaGateway({ APP_KIND: kind }, '/env');
      assert.equal(JSON.parse(env.body).env, 'development');
      assertShown(await viaGateway({ APP_KIND: kind }, '/throw'));
    });

    it('behind a real nginx (FCGI_LISTEN, no NODE_ENV): the browser gets no stack, nginx logs it', {
      ...T,
      skip: skipUnless(NGINX, 'nginx'),
    }, async () => {
      const socket = join(dir, `nginx-${kind}.sock`);
      const child = new Child(process.execPath, ['--input-type=module', '-e', APP], {
        env: envOf({ APP_KIND: kind, FCGI_LISTEN: socket }),
      });
      try {
        await waitForListener(socket, 20_000, () => (child.proc.exitCode !== null ? `exited: ${child.stderr}` : null));
        const nginx = await startNginx(socket);
        try {
          const r = await fetchRaw(nginx.port, '/throw', { headers: { accept: 'text/html' } });
          await new Promise((resolve) => setTimeout(resolve, 300));
          // Our apps log on FCGI_STDERR (nginx's error log); Express on the process's stderr.
          assertHidden({ status: r.status, body: r.body.toString(), log: nginx.errorLog() + child.stderr });
        } finally {
          await nginx.stop();
        }
      } finally {
        await child.stop('SIGKILL');
      }
    });

    if (kind === 'app') {
      it("an explicit app.set('env', 'development') wins over the production default", T, async () => {
        const env = await viaFastcgi(dir, { APP_KIND: 'app-dev' }, '/env');
        assert.equal(JSON.parse(env.body).env, 'development');
        assertShown(await viaFastcgi(dir, { APP_KIND: 'app-dev' }, '/throw'));
        assertShown(await viaCgi({ APP_KIND: 'app-dev' }, '/throw'));
      });
    }
  });
}
