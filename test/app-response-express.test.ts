// The same handlers run in Express 5 (over node:http) and in our app (over FastCGI): the status,
// the header lines in order and the body must be the same. Only what a web server or node:http
// adds on its own (Date, Connection, Keep-Alive) is left out of the comparison.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import cookieParser from 'cookie-parser';
import express from 'express';
import { createApp, type Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

type Res = any;
const routes: Record<string, (req: any, res: Res) => void> = {
  '/html': (_q, res) => res.send('<p>hi</p>'),
  '/buf': (_q, res) => res.send(Buffer.from([0, 1, 2, 255])),
  '/json': (_q, res) => res.json({ a: '<&>', list: [1, null, true] }),
  '/num': (_q, res) => res.send(7),
  '/null': (_q, res) => res.send(null),
  '/typed': (_q, res) => {
    res.set('Content-Type', 'text/plain; foo=bar');
    res.send('typed');
  },
  '/png': (_q, res) => {
    res.set('Content-Type', 'image/png');
    res.send('not really');
  },
  '/headers': (_q, res) => {
    res
      .set('X-One', 1)
      .set({ 'X-Two': ['a', 'b'] })
      .append('X-Two', 'c')
      .append('X-Three', 'solo');
    res.type('json').vary('Accept').vary('origin, Accept').vary(['User-Agent']);
    res.links({ next: '/n?p=2', pages: ['/1', '/2'] }).links({ last: '/9' });
    res.send('{}');
  },
  '/status': (_q, res) => res.sendStatus(418),
  '/created': (_q, res) => res.status(201).location('/items/ä b/%41').send('made'),
  '/204': (_q, res) => res.status(204).send('gone'),
  '/205': (_q, res) => res.status(205).send('reset'),
  '/redirect': (_q, res) => res.redirect('/a b/%20ü?x=<y>&z="q"'),
  '/redirect-301': (_q, res) => res.redirect(301, 'https://example.com/über'),
  '/redirect-303': (_q, res) => res.redirect(303, '..'),
  '/attach': (_q, res) => res.attachment('/x/日本語 résumé.txt').send('x'),
  '/attach-plain': (_q, res) => res.attachment('report 2024.pdf').send(Buffer.from('%PDF')),
  '/attach-bare': (_q, res) => res.attachment().send('y'),
  '/cookies': (_q, res) => {
    res.cookie('plain', 'a b;c');
    res.cookie(
      'obj',
      { x: [1, 2] },
      { httpOnly: true, secure: true, sameSite: 'lax', expires: new Date(Date.UTC(2030, 0, 2)) },
    );
    res.cookie('sig', 'v+/=', { signed: true, path: '/p', domain: 'example.com' });
    res.clearCookie('old', { path: '/admin' });
    res.send('ok');
  },
  '/format': (_q, res) =>
    res.format({
      text: () => res.send('text'),
      'application/json': () => res.send({ json: true }),
      html: () => res.send('<i>html</i>'),
    }),
  '/format-default': (_q, res) =>
    res.format({ json: () => res.json(1), default: () => res.status(200).send('fallback') }),
  '/last-modified': (_q, res) => {
    res.set('Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT');
    res.send('lm');
  },
};

/** [method, path, request headers] */
const cases: [string, string, Record<string, string>][] = [
  ...Object.keys(routes).map((p): [string, string, Record<string, string>] => ['GET', p, {}]),
  ['HEAD', '/html', {}],
  ['HEAD', '/json', {}],
  ['HEAD', '/redirect', {}],
  ['POST', '/html', {}],
  ['GET', '/html', { 'if-none-match': 'W/"9-ttvLQjlZejsM8OHFMxIScRaHZZo"' }],
  ['GET', '/html', { 'if-none-match': '"9-ttvLQjlZejsM8OHFMxIScRaHZZo"', 'cache-control': 'no-cache' }],
  ['GET', '/last-modified', { 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
  ['GET', '/redirect', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }],
  ['GET', '/redirect', { accept: 'application/json' }],
  ['GET', '/redirect-301', { accept: 'text/html' }],
  ['GET', '/format', { accept: 'application/json' }],
  ['GET', '/format', { accept: 'text/html;q=0.9, text/plain;q=0.8' }],
  ['GET', '/format', { accept: 'application/*, text/*;q=0.1' }],
  ['GET', '/format-default', { accept: 'image/png' }],
];

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

const IGNORED = new Set(['date', 'connection', 'keep-alive']);

function viaExpress(port: number, method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const rq = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (rs) => {
      const chunks: Buffer[] = [];
      rs.on('data', (c: Buffer) => chunks.push(c));
      rs.on('end', () => {
        const lines: string[] = [];
        for (let i = 0; i < rs.rawHeaders.length; i += 2) {
          if (!IGNORED.has(rs.rawHeaders[i]!.toLowerCase())) lines.push(`${rs.rawHeaders[i]}: ${rs.rawHeaders[i + 1]}`);
        }
        resolve({ status: rs.statusCode!, headers: lines, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    rq.on('error', reject);
    rq.end();
  });
}

async function viaFastCgi(path: string, method: string, uri: string, headers: Record<string, string>): Promise<Answer> {
  const extra: Record<string, string> = { REQUEST_METHOD: method, REQUEST_URI: uri, SCRIPT_NAME: uri };
  for (const [k, v] of Object.entries(headers)) extra[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  const r = await request(path, nginxParams(extra));
  const end = r.stdout.indexOf('\r\n\r\n');
  const lines = r.stdout
    .subarray(0, end)
    .toString('latin1')
    .split('\r\n')
    .filter((l) => !/^Status:/i.test(l));
  return { status: r.status, headers: lines, body: r.stdout.subarray(end + 4).toString('latin1') };
}

describe('same answers as Express 5', () => {
  let server: Server;
  let port = 0;
  before(async () => {
    const ex = express();
    ex.disable('x-powered-by');
    ex.use(cookieParser('sekrit'));
    ex.use((req, res, next) => (routes[req.path] ? routes[req.path]!(req, res) : next()));
    server = ex.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('every helper: status, header lines in order, body', { timeout: 20_000 }, async () => {
    const app = createApp();
    app.set('cookie secret', 'sekrit');
    app.use((req, res, next) => (routes[req.path] ? routes[req.path]!(req, res) : next()));
    await withServer(app as unknown as Handler, async ({ path }) => {
      for (const [method, uri, headers] of cases) {
        const label = `${method} ${uri} ${JSON.stringify(headers)}`;
        const want = await viaExpress(port, method, uri, headers);
        const got = await viaFastCgi(path, method, uri, headers);
        assert.deepEqual(got, want, label);
      }
    });
  });
});
