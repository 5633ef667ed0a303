// Differential tables: our negotiation, type matching and proxy walk against the packages Express 5
// itself runs (accepts 2 / negotiator 1, type-is 2, proxy-addr 2), loaded from the express
// devDependency's own tree. Every row must give the same answer from both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  compileTrust,
  forwardedChain,
  hasBody,
  preferredCharsets,
  preferredEncodings,
  preferredLanguages,
  preferredMediaTypes,
  typeIs,
} from '@fcgi/core/semantics';

const fromExpress = createRequire(createRequire(import.meta.url).resolve('express'));
const accepts = fromExpress('accepts') as (req: { headers: Record<string, string | undefined> }) => { negotiator: any };
const typeis = fromExpress('type-is') as {
  is(value: string | undefined, types: string[]): string | false;
  hasBody(req: unknown): boolean;
};
const proxyaddr = fromExpress('proxy-addr') as { all(req: unknown, trust: unknown): string[] };

const offeredLists: (string[] | undefined)[] = [
  undefined,
  [],
  ['text/html'],
  ['application/json', 'text/html'],
  ['text/plain', 'text/html;level=1', 'text/html;level=2', 'image/png', 'application/xml', 'TEXT/HTML'],
];

const mediaHeaders = [
  undefined,
  '',
  '*/*',
  'text/html',
  'TEXT/HTML',
  'text/*',
  'application/json, text/html',
  'text/html;q=0.9, application/json',
  'text/html;q=0, */*',
  'text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5',
  'text/html;foo="bar,baz", application/json',
  'garbage, text/plain',
  'text/html;q=abc, text/plain',
  'text/html ; q = 0.5 , text/plain',
  'text/html;level="1";q=0.8, text/html',
  ',,text/plain,,',
  'text/plain;q=0.5;level=1',
  'application/json;charset=utf-8, application/json;charset=latin1;q=0.5',
  'image/*;q=0.2, image/png',
  '*/*;q=0.1, application/xml;q=0.9, text/html',
  'text/html;a="x\\"y, z", text/plain',
  'text/html;flag;q=0.2, text/plain;q=0.1',
  'text/html;level=1;level=2, text/html;q=0.5',
  '\ttext/plain\t;\tq=0.3, application/json',
  'text/html;q=0.5;q=1',
];

describe('negotiation parity with negotiator', () => {
  it('media types', { timeout: 10_000 }, () => {
    for (const header of mediaHeaders) {
      const n = accepts({ headers: { accept: header } }).negotiator;
      for (const offered of offeredLists) {
        const label = `Accept ${JSON.stringify(header)} offered ${JSON.stringify(offered)}`;
        assert.deepEqual(preferredMediaTypes(header, offered), n.mediaTypes(offered), label);
      }
    }
  });

  it('encodings, charsets, languages', { timeout: 10_000 }, () => {
    const rows: [
      string,
      (h: string | undefined, o?: string[]) => string[],
      (string | undefined)[],
      (string[] | undefined)[],
    ][] = [
      [
        'encodings',
        preferredEncodings,
        [
          undefined,
          '',
          'gzip',
          'gzip, deflate',
          'gzip;q=0.8, identity;q=0.5, *;q=0.3',
          '*;q=0',
          'identity;q=0',
          'gzip;q=0',
          'br;q=1.0, gzip;q=0.8, *;q=0.1',
          'GZIP',
          'gzip, compress;q=0.2',
          ' , gzip',
          'gzip;q=0.5;q=1',
        ],
        [undefined, [], ['gzip'], ['identity', 'gzip', 'deflate', 'br'], ['IDENTITY']],
      ],
      [
        'charsets',
        preferredCharsets,
        [
          undefined,
          '',
          'utf-8',
          'utf-8, iso-8859-1;q=0.2, utf-7;q=0.5',
          '*, UTF-8;q=0',
          'iso-8859-1; q=0.5, utf-8',
          '*;q=0.1, latin1',
        ],
        [undefined, [], ['utf-8'], ['iso-8859-1', 'utf-7', 'UTF-8']],
      ],
      [
        'languages',
        preferredLanguages,
        [
          undefined,
          '',
          'en',
          'en-US, en;q=0.8, fr;q=0.5',
          'fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5',
          '*',
          'en;q=0.8, es, pt',
          'EN-us',
          'en-US-x-private, en; q=0.5',
          'zh-Hant-TW, zh;q=0.1',
        ],
        [undefined, [], ['en'], ['en-US', 'en-GB', 'fr', 'de', 'es'], ['zh-TW', 'zh', 'zh-Hant']],
      ],
    ];
    const method = { encodings: 'encodings', charsets: 'charsets', languages: 'languages' } as const;
    const header = { encodings: 'accept-encoding', charsets: 'accept-charset', languages: 'accept-language' } as const;
    for (const [kind, fn, headers, offered] of rows) {
      for (const h of headers) {
        const n = accepts({ headers: { [header[kind as keyof typeof header]]: h } }).negotiator;
        for (const o of offered) {
          assert.deepEqual(
            fn(h, o),
            n[method[kind as keyof typeof method]](o),
            `${kind} ${JSON.stringify(h)} offered ${JSON.stringify(o)}`,
          );
        }
      }
    }
  });
});

describe('type-is parity', () => {
  it('typeIs and hasBody', { timeout: 10_000 }, () => {
    const values = [
      undefined,
      '',
      'application/json',
      'application/json; charset=utf-8',
      'TEXT/HTML; Charset="UTF-8"',
      'text/html;',
      'text/html; charset',
      'application/vnd.api+json',
      'application/ld+json',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'text/',
      'te xt/html',
      '\ttext/plain\t; a=1',
      'image/svg+xml',
      'text/plain ,x',
      ' text/plain ',
    ];
    const typeLists = [
      [],
      ['json'],
      ['html', 'json'],
      ['application/*'],
      ['+json'],
      ['*/*+json'],
      ['urlencoded'],
      ['multipart'],
      ['text/*'],
      ['*/*'],
      ['image/*+xml'],
      ['no-such-ext'],
      ['*/html'],
    ];
    for (const value of values) {
      for (const types of typeLists) {
        assert.equal(
          typeIs(value, types),
          typeis.is(value, types),
          `${JSON.stringify(value)} is ${JSON.stringify(types)}`,
        );
      }
    }
    const headerSets: Record<string, string>[] = [
      {},
      { 'content-length': '0' },
      { 'content-length': '12' },
      { 'content-length': 'x' },
      { 'transfer-encoding': 'chunked' },
      { 'content-length': ' ' },
    ];
    for (const headers of headerSets)
      assert.equal(hasBody(headers), typeis.hasBody({ headers }), JSON.stringify(headers));
  });
});

describe('proxy-addr parity', () => {
  it('the X-Forwarded-For walk for lists, hop counts and functions', { timeout: 10_000 }, () => {
    const lists: (string[] | ((a: string, i: number) => boolean))[] = [
      ['loopback'],
      ['loopback', '10.0.0.0/8'],
      ['uniquelocal'],
      ['linklocal'],
      ['::1'],
      ['::ffff:127.0.0.1'],
      ['::ffff:0:0/96'],
      ['2001:db8::/32'],
      ['10.0.0.0/255.0.0.0'],
      ['127.0.0.1', '::1', '192.168.1.0/24'],
      ['fe80::/10', '169.254.0.0/16'],
      (a, i) => i < 2 && a !== '8.8.8.8',
    ];
    const remotes = [
      '127.0.0.1',
      '::1',
      '::ffff:127.0.0.1',
      '10.1.2.3',
      '192.168.1.5',
      '8.8.8.8',
      'fe80::1',
      '2001:db8::7',
    ];
    const xffs = [
      undefined,
      '',
      '203.0.113.1',
      '203.0.113.1, 10.0.0.2',
      ' 198.51.100.1 , , 192.168.1.9,127.0.0.1',
      'unknown, 10.0.0.3',
      '2001:db8::1, ::1',
      '1.1.1.1,::ffff:10.0.0.9',
    ];
    for (const list of lists) {
      for (const remote of remotes) {
        for (const xff of xffs) {
          const req = {
            headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
            connection: { remoteAddress: remote },
            socket: { remoteAddress: remote },
          };
          assert.deepEqual(
            forwardedChain(remote, xff, compileTrust(list)),
            proxyaddr.all(req, list),
            `${String(list)} from ${remote} via ${JSON.stringify(xff)}`,
          );
        }
      }
    }
  });
});
