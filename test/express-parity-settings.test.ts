// Settings Express compiles, on createApp() against Express 5 itself: 'query parser' ('simple',
// 'extended' = qs, a function, false), 'etag' as a function and its validation, 'trust proxy' in
// every form (function, number, string, list, true/false), and settings that are a null-prototype
// object (app.set('hasOwnProperty') is undefined).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { createApp } from '@fcgi/core';
import { assertSameAnswers, type MakeApp } from './helpers/express-parity.js';

const QUERIES = [
  '?a=1&a=2&b=%20x+y',
  '?user[name]=ann&user[roles][]=admin&user[roles][]=dev&list[1]=b&list[0]=a',
  '?a[b][c][d][e][f][g]=deep&x=1,2&empty=&flag',
  '?__proto__[polluted]=1&constructor[x]=2&hasOwnProperty=3',
  '?%E2%9C%93=%F0%9F%98%80&bad=%ZZ',
];

function queryApps(app: any, makeApp: MakeApp): void {
  const show = (req: any, res: any) => res.json({ query: req.query });
  // The top app parses with qs; each sub-app has its own setting (its default is 'simple', as Express's).
  app.set('query parser', 'extended');
  app.get('/q', (req: any, res: any) => res.json({ query: req.query }));
  const subs: Record<string, unknown> = {
    simple: 'simple',
    fn: (s: string | null) => ({ raw: s, length: s?.length ?? -1 }),
    off: false,
    on: true,
    default: undefined,
  };
  for (const [name, value] of Object.entries(subs)) {
    const sub = makeApp();
    if (value !== undefined) sub.set('query parser', value);
    sub.get('/q', name === 'fn' ? (req: any, res: any) => res.json({ query: req.query }) : show);
    app.use(`/${name}`, sub);
  }
}

it("'query parser': simple, extended (qs), a function, false, true; sub-apps keep their own", { timeout: 30_000 }, () =>
  assertSameAnswers(
    queryApps,
    ['/q', '/simple/q', '/off/q', '/on/q', '/default/q']
      .flatMap((p) => QUERIES.map((q): [string, string] => ['GET', p + q]))
      .concat([
        ['GET', '/fn/q?a=1&b[c]=2'],
        ['GET', '/fn/q'],
        ['GET', '/fn/q?'],
      ]),
  ),
);

function etagApps(app: any, makeApp: MakeApp): void {
  app.set('etag', (body: Buffer, encoding: unknown) => `"v1-${body.length}-${String(encoding)}"`);
  app.get('/custom', (_req: any, res: any) => res.send('hello there'));
  app.get('/custom-json', (_req: any, res: any) => res.json({ a: 1 }));
  app.get('/empty-tag', (_req: any, res: any) => {
    app.set('etag', () => '');
    res.send('no tag');
  });
  for (const value of ['strong', 'weak', false, true]) {
    const sub = makeApp();
    sub.set('etag', value);
    sub.get('/x', (_req: any, res: any) => res.send('sub body'));
    app.use(`/${String(value)}`, sub);
  }
  // A sub-app has its own default ('weak'): the parent's false does not reach it.
  const noTags = makeApp();
  noTags.set('etag', false);
  const child = makeApp();
  child.get('/x', (_req: any, res: any) => res.send('child body'));
  noTags.use('/child', child);
  noTags.get('/x', (_req: any, res: any) => res.send('parent body'));
  app.use('/notags', noTags);
  app.get('/settings', (_req: any, res: any) => {
    const errors: string[] = [];
    for (const bad of ['sometimes', 1, null, {}]) {
      try {
        makeApp().set('etag', bad);
      } catch (e) {
        errors.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    try {
      makeApp().set('query parser', 'fancy');
    } catch (e) {
      errors.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
    res.json({ errors, etagFn: typeof app.get('etag fn'), fresh: makeApp().get('etag') });
  });
}

it("'etag' as a function (body, encoding), its other values, and the values Express refuses", { timeout: 30_000 }, () =>
  assertSameAnswers(etagApps, [
    ['GET', '/custom'],
    ['GET', '/custom', { 'if-none-match': '"v1-11-undefined"' }],
    ['GET', '/custom-json'],
    ['GET', '/strong/x'],
    ['GET', '/weak/x'],
    ['GET', '/false/x'],
    ['GET', '/true/x'],
    ['GET', '/notags/x'],
    ['GET', '/notags/child/x'],
    ['GET', '/settings'],
    ['GET', '/empty-tag'],
  ]),
);

const TRUST: Record<string, unknown> = {
  fn: (addr: string, i: number) => addr === '127.0.0.1' || i < 2,
  fnNone: () => false,
  one: 1,
  two: 2,
  zero: 0,
  loopback: 'loopback',
  list: '127.0.0.1, 10.0.0.1',
  array: ['loopback', '10.0.0.0/8'],
  mapped: ['::ffff:127.0.0.1'],
  all: true,
  none: false,
};

function trustApps(app: any, makeApp: MakeApp): void {
  const who = (req: any, res: any) =>
    res.json({ ip: req.ip, ips: req.ips, protocol: req.protocol, secure: req.secure, hostname: req.hostname });
  for (const [name, value] of Object.entries(TRUST)) {
    const sub = makeApp();
    sub.set('trust proxy', value);
    sub.get('/who', who);
    app.use(`/${name}`, sub);
  }
  // A sub-app that sets nothing follows its parent's 'trust proxy'.
  const parent = makeApp();
  parent.set('trust proxy', 'loopback');
  const child = makeApp();
  child.get('/who', who);
  parent.use('/child', child);
  app.use('/parent', parent);
}

it(
  "'trust proxy': a function (addr, i), numbers, strings, lists, true/false; inherited when unset",
  { timeout: 30_000 },
  () =>
    assertSameAnswers(
      trustApps,
      [...Object.keys(TRUST), 'parent/child'].flatMap((name): [string, string, Record<string, string>][] => [
        [
          'GET',
          `/${name}/who`,
          {
            host: 'app.example',
            'x-forwarded-for': '203.0.113.7, 10.0.0.2, 10.0.0.1',
            'x-forwarded-proto': 'https, http',
            'x-forwarded-host': 'shop.example:8443, other',
          },
        ],
        ['GET', `/${name}/who`, { host: 'app.example' }],
      ]),
    ),
);

it('settings are a null-prototype object: Object.prototype members are not settings', { timeout: 20_000 }, () =>
  assertSameAnswers(
    (app) => {
      app.get('/members', (_req: any, res: any) =>
        res.json({
          hasOwnProperty: String(app.set('hasOwnProperty')),
          toString: String(app.get('toString')),
          constructorEnabled: app.enabled('constructor'),
          protoDisabled: app.disabled('__proto__'),
          valueOf: typeof app.settings.valueOf,
          defaults: [app.get('etag'), app.get('query parser'), app.get('trust proxy')],
          compiled: ['etag fn', 'query parser fn', 'trust proxy fn'].map((n) => typeof app.get(n)),
        }),
      );
    },
    [['GET', '/members']],
  ),
);

it('app.set() refuses what Express refuses, with its message', () => {
  for (const make of [() => express() as any, () => createApp() as any]) {
    assert.throws(() => make().set('etag', 'sometimes'), {
      name: 'TypeError',
      message: 'unknown value for etag function: sometimes',
    });
    assert.throws(() => make().set('query parser', 'fancy'), {
      name: 'TypeError',
      message: 'unknown value for query parser function: fancy',
    });
    assert.throws(() => make().set('trust proxy', '10.0.0.1/99'), TypeError);
  }
});
