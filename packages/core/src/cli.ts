#!/usr/bin/env node
// The `fcgi` command: front any FastCGI app with the HTTP gateway, send it one request, or bundle
// an app into one file for shared hosts, or check an uploaded app file.
//   fcgi gateway --to /run/php/php-fpm.sock [--port 8080] [--host 127.0.0.1] [--root DIR]
//   fcgi request --to 127.0.0.1:9000 [-H 'Name: value']... [-d DATA | -d @FILE] [-p NAME=VALUE]... [METHOD] PATH
//   fcgi bundle src/app.ts dist/app.fcgi [--node PATH] [--htaccess] [--env NAME=VALUE]...
//   fcgi doctor [app.fcgi]
import { createReadStream } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLE_USAGE, bundleCommand } from './bundle/command.js';
import { FcgiClient } from './client/index.js';
import { DOCTOR_USAGE, doctorCommand } from './doctor/command.js';
import { createGateway } from './gateway/index.js';

const USAGE = `usage:
  fcgi gateway --to <socket|host:port> [--port 8080] [--host 127.0.0.1] [--root DIR]
      Serves HTTP on host:port and forwards every request to the FastCGI app, as nginx would
      (with SCRIPT_FILENAME = DIR + path, so PHP-FPM finds its scripts; DIR defaults to the
      working directory). --port 0 picks a free port; the address is printed on stdout.
  fcgi request --to <socket|host:port> [-H 'Name: value']... [-d DATA|@FILE] [-p NAME=VALUE]... [-i] [METHOD] PATH
      Sends one request and prints the response body (-i: the status and headers too; the
      app's FCGI_STDERR goes to stderr). Exits 0 for a 2xx/3xx status, 1 otherwise.
${BUNDLE_USAGE}${DOCTOR_USAGE}`;

function fail(message: string): never {
  process.stderr.write(`fcgi: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function gateway(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      to: { type: 'string' },
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      root: { type: 'string' },
    },
  });
  if (!values.to) fail('gateway needs --to');
  const gw = createGateway({ to: values.to, documentRoot: resolvePath(values.root ?? '.'), scriptFilename: true });
  await new Promise<void>((resolve, reject) => {
    gw.server.once('error', reject);
    gw.server.listen(Number(values.port), values.host, () => resolve());
  });
  const a = gw.server.address();
  console.log(
    `fcgi gateway: http://${values.host}:${typeof a === 'object' && a ? a.port : values.port} -> ${values.to}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void gw.close().then(() => process.exit(0)));
  }
}

async function request(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      data: { type: 'string', short: 'd' },
      param: { type: 'string', short: 'p', multiple: true, default: [] },
      include: { type: 'boolean', short: 'i', default: false },
      timeout: { type: 'string', default: '30000' },
    },
  });
  if (!values.to) fail('request needs --to');
  if (positionals.length < 1 || positionals.length > 2) fail('request needs [METHOD] PATH');
  const [method, target] =
    positionals.length === 2
      ? [positionals[0]!.toUpperCase(), positionals[1]!]
      : [values.data ? 'POST' : 'GET', positionals[0]!];
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  let body: Buffer | NodeJS.ReadableStream | undefined;
  let length: number | undefined;
  if (values.data !== undefined) {
    if (values.data.startsWith('@')) {
      const { statSync } = await import('node:fs');
      length = statSync(values.data.slice(1)).size;
      body = createReadStream(values.data.slice(1));
    } else {
      body = Buffer.from(values.data);
      length = body.length;
    }
  }
  const params: [string, string][] = [
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', 'fcgi-request'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['REQUEST_METHOD', method],
    ['REQUEST_URI', target],
    ['SCRIPT_NAME', path],
    ['DOCUMENT_URI', path],
    ['QUERY_STRING', q < 0 ? '' : target.slice(q + 1)],
    ['REQUEST_SCHEME', 'http'],
    ['DOCUMENT_ROOT', process.cwd()],
    ['SCRIPT_FILENAME', process.cwd() + path],
    ['REMOTE_ADDR', '127.0.0.1'],
    ['SERVER_NAME', 'localhost'],
    ['SERVER_PORT', '80'],
    ['CONTENT_LENGTH', length === undefined ? '' : String(length)],
    ['CONTENT_TYPE', ''],
  ];
  for (const h of values.header) {
    const c = h.indexOf(':');
    if (c <= 0) fail(`bad header ${JSON.stringify(h)}: use 'Name: value'`);
    const name = h.slice(0, c).trim();
    const value = h.slice(c + 1).trim();
    // Set in place: a second CONTENT_TYPE param would be a duplicate the app may read either way.
    if (name.toLowerCase() === 'content-type') params.find(([n]) => n === 'CONTENT_TYPE')![1] = value;
    params.push(['HTTP_' + name.toUpperCase().replaceAll('-', '_'), value]);
  }
  for (const p of values.param) {
    const e = p.indexOf('=');
    if (e <= 0) fail(`bad param ${JSON.stringify(p)}: use NAME=VALUE`);
    params.push([p.slice(0, e), p.slice(e + 1)]);
  }
  const client = new FcgiClient({ target: values.to, keepConn: false });
  try {
    const res = await client.request({ params, body: body as never, timeout: Number(values.timeout) });
    res.on('stderr', (text: string) => process.stderr.write(text));
    if (values.include) {
      process.stdout.write(`${res.status} ${res.statusText}\n`);
      for (const [n, v] of res.rawHeaders) process.stdout.write(`${n}: ${v}\n`);
      process.stdout.write('\n');
    }
    for await (const chunk of res.body) process.stdout.write(chunk as Buffer);
    await res.done;
    process.exitCode = res.status < 400 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`fcgi: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'gateway') await gateway(rest);
else if (command === 'request') await request(rest);
else if (command === 'bundle') process.exitCode = await bundleCommand(rest);
else if (command === 'doctor') process.exitCode = doctorCommand(rest);
else if (command === '--help' || command === '-h' || command === 'help') process.stdout.write(USAGE);
else fail(command ? `unknown command ${JSON.stringify(command)}` : 'a command is needed');
