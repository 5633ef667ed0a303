// CPU per request of a FastCGI app with nothing else in the way: a load client speaking FastCGI
// itself (nginx-like params, keep-conn on, N connections, one request in flight on each) against
// the app on a unix socket; the app's CPU time from /proc/<pid>/stat over the measured seconds.
// For A/B work on the request path: node bench/direct.mjs [--app bench/apps/fcgi-hello.mjs]
//   [--path /] [--seconds 5] [--conns 50] [--runs 3] [--keep-conn-off] [--node-arg=--cpu-prof ...]
// (--node-arg: a flag for the app's node, repeatable; Node 20 refuses --cpu-prof in NODE_OPTIONS)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeBeginRequest, encodeNameValues, encodeStream, RecordType } from '@fcgi/core/protocol';

const { values: opts } = parseArgs({
  options: {
    app: { type: 'string', default: 'bench/apps/fcgi-hello.mjs' },
    path: { type: 'string', default: '/' },
    seconds: { type: 'string', default: '5' },
    conns: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    'keep-conn-off': { type: 'boolean', default: false },
    'node-arg': { type: 'string', multiple: true, default: [] },
  },
});
const keepConn = !opts['keep-conn-off'];

// What nginx 1.22 sends for GET / from wrk (fastcgi_params plus the request's headers).
const params = {
  QUERY_STRING: '',
  REQUEST_METHOD: 'GET',
  CONTENT_TYPE: '',
  CONTENT_LENGTH: '',
  SCRIPT_NAME: opts.path,
  REQUEST_URI: opts.path,
  DOCUMENT_URI: opts.path,
  DOCUMENT_ROOT: '/etc/nginx/html',
  SERVER_PROTOCOL: 'HTTP/1.1',
  REQUEST_SCHEME: 'http',
  GATEWAY_INTERFACE: 'CGI/1.1',
  SERVER_SOFTWARE: 'nginx/1.22.1',
  REMOTE_ADDR: '127.0.0.1',
  REMOTE_PORT: '51234',
  SERVER_ADDR: '127.0.0.1',
  SERVER_PORT: '8080',
  SERVER_NAME: 'localhost',
  REDIRECT_STATUS: '200',
  HTTP_HOST: '127.0.0.1:8080',
};
function request(port) {
  return Buffer.concat([
    encodeBeginRequest(1, 1, keepConn),
    encodeStream(RecordType.PARAMS, 1, encodeNameValues({ ...params, REMOTE_PORT: String(port) })),
    encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)),
  ]);
}

function cpuTicks(pid) {
  return readFile(`/proc/${pid}/stat`, 'utf8').then((s) => {
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
  });
}

/** Runs one client connection loop until `stop()`; counts END_REQUEST records. */
function client(path, counter, state) {
  let port = 40000 + Math.floor(Math.random() * 20000);
  const start = () => {
    const sock = connect(path);
    sock.setNoDelay?.(true);
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      // Scan whole records; END_REQUEST (type 3) ends the request.
      let at = 0;
      while (pending.length - at >= 8) {
        const len = pending.readUInt16BE(at + 4) + pending[at + 6];
        if (pending.length - at < 8 + len) break;
        if (pending[at + 1] === 3) {
          counter.n++;
          if (state.stop) return sock.destroy();
          if (keepConn) sock.write(request(port++ % 65536));
        }
        at += 8 + len;
      }
      pending = pending.subarray(at);
    });
    sock.on('end', () => {
      sock.destroy();
      if (!state.stop && !keepConn) start();
    });
    sock.on('error', () => {});
    sock.write(request(port++ % 65536));
  };
  start();
}

const dir = await mkdtemp(join(tmpdir(), 'fcgi-direct-'));
const results = [];
try {
  for (let run = 0; run < Number(opts.runs); run++) {
    const path = join(dir, `app${run}.sock`);
    const app = spawn(process.execPath, [...opts['node-arg'], opts.app, path], {
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: 'inherit',
    });
    try {
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (
          await readFile(path).then(
            () => true,
            (e) => e.code !== 'ENOENT',
          )
        )
          break;
      }
      const counter = { n: 0 };
      const state = { stop: false };
      for (let i = 0; i < Number(opts.conns); i++) client(path, counter, state);
      await new Promise((r) => setTimeout(r, 1000)); // warm-up
      const t0 = await cpuTicks(app.pid);
      const n0 = counter.n;
      const started = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, Number(opts.seconds) * 1000));
      const t1 = await cpuTicks(app.pid);
      const n = counter.n - n0;
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      state.stop = true;
      const usPerReq = ((t1 - t0) * 10000) / n;
      results.push({ reqPerSec: Math.round(n / secs), usPerReq: Math.round(usPerReq * 100) / 100 });
      console.log(`run ${run + 1}: ${Math.round(n / secs)} req/s, app CPU ${usPerReq.toFixed(2)} µs/request`);
    } finally {
      // SIGTERM: the bench apps exit normally on it, so --node-arg=--cpu-prof / --heap-prof write their files.
      const exited = new Promise((r) => app.once('exit', r));
      app.kill('SIGTERM');
      const t = setTimeout(() => app.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median: ${med(results.map((r) => r.reqPerSec))} req/s, ${med(results.map((r) => r.usPerReq))} µs/request (app CPU)`,
);
process.exit(0);
