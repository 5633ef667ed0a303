// A listening socket on fd 0, as spawn-fcgi, mod_fcgid and lighttpd hand one over, wins over
// FCGI_LISTEN; anything else on fd 0 (a socketpair, a file, /dev/null) is left alone and readable.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, fcgiGet, freePort } from './helpers/raw-client.js';

const dir = await mkdtemp(join(tmpdir(), 'fcgi-fd0-'));
const children: Child[] = [];
after(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await rm(dir, { recursive: true, force: true });
});

function start(cmd: string, args: string[], options: ConstructorParameters<typeof Child>[2] = {}): Child {
  const child = new Child(cmd, args, options);
  children.push(child);
  return child;
}

/** The environment of a child: ours, without any listen settings a developer may have exported. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  if (!('FCGI_LISTEN' in extra)) delete e.FCGI_LISTEN;
  delete e.FCGI_WEB_SERVER_ADDRS;
  return e;
}

/** Runs the reference C client (libfcgi's cgi-fcgi) for one GET; resolves with its stdout. */
function cgiFcgi(connect: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const e = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: '/',
      SCRIPT_NAME: '/',
      SERVER_PROTOCOL: 'HTTP/1.1',
    };
    execFile('cgi-fcgi', ['-bind', '-connect', connect], { env: e, timeout: 10000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

const hello = ['--import', 'tsx', 'examples/hello.ts'];

test('spawn-fcgi -s: hello.ts serves on the unix socket it got as fd 0, ignoring FCGI_LISTEN', {
  timeout: 30000,
}, async () => {
  const sock = join(dir, 'spawn.sock');
  const decoy = join(dir, 'decoy.sock');
  // -n: spawn-fcgi execs the app in place, so the pid we hold is the app's.
  const child = start('spawn-fcgi', ['-n', '-s', sock, '--', process.execPath, ...hello], {
    env: env({ FCGI_LISTEN: decoy }),
  });
  const m = await child.waitFor(/hello: listening on (.*)\n/);
  assert.deepEqual(JSON.parse(m[1]!), { kind: 'fd', fd: 0 });
  assert.ok(lstatSync(sock).isSocket());
  assert.equal(existsSync(decoy), false, 'fd 0 must win over FCGI_LISTEN');

  const r = await fcgiGet(sock, '/', 10000);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'Hello World\n');
  assert.equal(r.reply.protocolStatus, 0);
  assert.match(await cgiFcgi(sock), /\r?\n\r?\nHello World\n$/);
  await child.stop('SIGTERM');
});

test('spawn-fcgi -a -p: hello.ts serves on the TCP socket it got as fd 0', { timeout: 30000 }, async () => {
  const port = await freePort();
  const child = start('spawn-fcgi', ['-n', '-a', '127.0.0.1', '-p', String(port), '--', process.execPath, ...hello], {
    env: env(),
  });
  const m = await child.waitFor(/hello: listening on (.*)\n/);
  assert.deepEqual(JSON.parse(m[1]!), { kind: 'fd', fd: 0 });

  const r = await fcgiGet({ host: '127.0.0.1', port }, '/', 10000);
  assert.equal(r.body.toString(), 'Hello World\n');
  assert.match(await cgiFcgi(`127.0.0.1:${port}`), /\r?\n\r?\nHello World\n$/);
  await child.stop('SIGTERM');
});

// A child that reports what fd 0 is, listens (FCGI_LISTEN), then reads all of its stdin. The fd 0
// probe is internal to @fcgi/core's server layer, so the child loads it from the built file.
const listenTarget = new URL('../packages/core/dist/server/listen-target.js', import.meta.url).href;
const probe = `
import { fstatSync } from 'node:fs';
import { createFcgiServer } from '@fcgi/core';
import { hasListeningSocketOnFd0 } from ${JSON.stringify(listenTarget)};
const fd0 = hasListeningSocketOnFd0();
const socket = fstatSync(0).isSocket();
const server = createFcgiServer((_req, res) => res.end('Hello World\\n'));
const where = await server.listen();
console.log('listening ' + JSON.stringify({ fd0, socket, where }));
let stdin = '';
process.stdin.setEncoding('utf8').on('data', (s) => (stdin += s)).on('end', () => {
  console.log('stdin ' + JSON.stringify(stdin));
});
`;

const stdins: {
  name: string;
  isSocket: boolean;
  stdio: () => ['pipe' | 'ignore' | number, 'pipe', 'pipe'];
  feed?: string;
  expect: string;
}[] = [
  // Node's stdio 'pipe' is a socketpair on Linux: a socket, but a connected one.
  { name: 'a socketpair', isSocket: true, stdio: () => ['pipe', 'pipe', 'pipe'], feed: 'ping\n', expect: 'ping\n' },
  {
    name: 'a regular file',
    isSocket: false,
    expect: 'from a file\n',
    stdio: () => {
      const file = join(dir, 'stdin.txt');
      writeFileSync(file, 'from a file\n');
      return [openSync(file, 'r'), 'pipe', 'pipe'];
    },
  },
  { name: '/dev/null', isSocket: false, stdio: () => ['ignore', 'pipe', 'pipe'], expect: '' },
];

for (const s of stdins) {
  test(`stdin is ${s.name}: no listening socket on fd 0, FCGI_LISTEN is used, stdin stays readable`, {
    timeout: 30000,
  }, async () => {
    const sock = join(dir, `probe-${stdins.indexOf(s)}.sock`);
    const stdio = s.stdio();
    const child = start(process.execPath, ['--input-type=module', '-e', probe], {
      env: env({ FCGI_LISTEN: sock }),
      stdio,
    });
    if (typeof stdio[0] === 'number') closeSync(stdio[0]);
    const m = await child.waitFor(/listening (.*)\n/);
    assert.deepEqual(JSON.parse(m[1]!), { fd0: false, socket: s.isSocket, where: { kind: 'unix', path: sock } });

    const r = await fcgiGet(sock);
    assert.equal(r.body.toString(), 'Hello World\n');

    if (s.feed !== undefined) child.proc.stdin!.end(s.feed);
    const got = await child.waitFor(/stdin (.*)\n/);
    assert.equal(JSON.parse(got[1]!), s.expect, 'fd 0 must still be the original stdin');
    await child.stop();
  });
}

test('a restart on an fd-0 listener: a connection waiting in the backlog with its request written is served, not reset', {
  timeout: 30000,
}, async () => {
  // mod_fcgid connects to an idle process and writes the request at once. The restart check is a
  // timer, and timers run before the event loop accepts: if the drain began by closing the
  // listening socket, what waits in the backlog would be reset (Apache: "Connection reset by
  // peer ... End of script output before headers"), as seen on the shared host after restart.txt.
  const appDir = join(dir, 'backlog');
  mkdirSync(appDir);
  const app = join(appDir, 'app.mjs');
  writeFileSync(
    app,
    `import { serve } from ${JSON.stringify(join(process.cwd(), 'packages/core/dist/index.js'))};
await serve((req, res) => {
  // Holds the event loop, as a busy request does: what connects meanwhile waits in the backlog.
  if (req.url === '/block') for (const end = Date.now() + 400; Date.now() < end; );
  res.end('ok ' + req.url);
}, { announce: false });
process.stderr.write('serving\\n');
`,
  );
  const sock = join(dir, 'backlog.sock');
  const child = start('spawn-fcgi', ['-n', '-s', sock, '--', process.execPath, app], {
    env: env({ FCGI_RESTART_CHECK_INTERVAL: '20' }),
  });
  await child.waitFor(/serving/);
  const blocked = fcgiGet(sock, '/block');
  await new Promise((r) => setTimeout(r, 150)); // the app is inside its 400 ms loop now
  writeFileSync(join(appDir, 'restart.txt'), '');
  const waiting = fcgiGet(sock, '/waiting');
  assert.equal((await blocked).body.toString(), 'ok /block');
  assert.equal((await waiting).body.toString(), 'ok /waiting');
  assert.equal(await child.exited, 0);
  assert.match(child.stderr, /restart\.txt was touched/);
});
