// Our proxy trust held to proxy-addr 2.0.8: generated trust lists (addresses, CIDRs, netmasks,
// names, IPv4-mapped and zoned IPv6, garbage) and candidate addresses go to both; they must
// compile or refuse alike and trust alike, and the X-Forwarded-For walk must give the same chain.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import fc from 'fast-check';
import proxyaddr from 'proxy-addr';
import { compileAddressList, compileTrust, forwardedChain, type TrustFn } from './proxy-trust.js';

const octet = fc.oneof(fc.constantFrom(0, 1, 10, 127, 168, 169, 172, 192, 254, 255), fc.nat({ max: 255 }));
const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const group = fc.oneof(
  fc.constantFrom('0', 'ffff', 'fe80', 'fc00', 'fd12', '2001', 'db8', '1', 'FFFF'),
  fc.nat({ max: 0xffff }).map((n) => n.toString(16)),
);
const v6 = fc.oneof(
  fc.array(group, { minLength: 8, maxLength: 8 }).map((g) => g.join(':')),
  fc
    .tuple(fc.array(group, { maxLength: 3 }), fc.array(group, { maxLength: 3 }))
    .map(([a, b]) => `${a.join(':')}::${b.join(':')}`),
  v4.map((a) => `::ffff:${a}`),
  v4.map((a) => `::FFFF:${a}`),
  fc.constantFrom('::1', '::', 'fe80::1%eth0', 'fe80::abcd%1', '::ffff:0:0', '::ffff:7f00:1'),
);
/** Notations that are not addresses for either, and the IPv4 forms only ipaddr.js reads (listed). */
const odd = fc.constantFrom(
  '',
  'localhost',
  '1.2.3',
  '256.1.1.1',
  '1.2.3.4:80',
  '[::1]',
  '::1::2',
  'unknown',
  ' 1.2.3.4',
  '1.2.3.4 ',
  'a.b.c.d',
);
const nonStandardV4 = fc.constantFrom('0177.0.0.1', '2130706433', '0x7f.0.0.1', '0x7f000001', '010.0.0.1', '10.0.0.01');
const address = fc.oneof({ weight: 4, arbitrary: v4 }, { weight: 4, arbitrary: v6 }, { weight: 1, arbitrary: odd });

const mask = fc.nat({ max: 32 }).map((bits) => {
  const n = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
});
const entry = fc.oneof(
  { weight: 3, arbitrary: address },
  { weight: 3, arbitrary: fc.tuple(v4, fc.nat({ max: 34 })).map(([a, b]) => `${a}/${b}`) },
  { weight: 3, arbitrary: fc.tuple(v6, fc.nat({ max: 130 })).map(([a, b]) => `${a}/${b}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(v4, fc.oneof(mask, fc.constantFrom('255.0.255.0', '0.0.0.0', '255.255.255.255', 'x', '')))
      .map(([a, m]) => `${a}/${m}`),
  },
  { weight: 1, arbitrary: fc.tuple(v6, mask).map(([a, m]) => `${a}/${m}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'loopback',
      'linklocal',
      'uniquelocal',
      'toString',
      '__proto__',
      '::ffff:0:0/96',
      '::ffff:0:0/95',
      '::/1',
      '::/64',
    ),
  },
);
const list = fc.array(entry, { minLength: 1, maxLength: 4 });

/**
 * The listed differences, each where only one side reads a notation as an address:
 * 1. IPv4 in octal, hex or 32-bit-number form (0177.0.0.1, 0x7f000001, 2130706433): ipaddr.js
 *    reads them (so proxy-addr trusts 0177.0.0.1 as loopback); for us, as for node:net, they are
 *    not addresses: never trusted, and refused in a trust list;
 * 2. IPv6 with an IPv4 tail other than ::ffff: (64:ff9b::1.2.3.4, ::1.2.3.4, valid by RFC 4291
 *    2.2): addresses for us, not for ipaddr.js.
 */
const host = (s: string) => s.split('/')[0]!.split('%')[0]!;
function proxyAddrReads(s: string): boolean {
  try {
    proxyaddr.compile([host(s)]);
    return true;
  } catch {
    return false;
  }
}
const onlyOneReads = (s: string) =>
  (isIP(host(s)) === 0) === proxyAddrReads(s) && !['loopback', 'linklocal', 'uniquelocal'].includes(s);

function compiled(f: () => TrustFn): TrustFn | 'TypeError' {
  try {
    return f();
  } catch (err) {
    assert.ok(err instanceof TypeError, String(err));
    return 'TypeError';
  }
}

describe('proxy trust against proxy-addr (differential)', () => {
  it('compiles or refuses the same lists, and trusts the same addresses', () => {
    fc.assert(
      fc.property(list, fc.array(address, { minLength: 1, maxLength: 6 }), (entries, candidates) => {
        if (entries.some(onlyOneReads)) return;
        const ours = compiled(() => compileAddressList(entries));
        const theirs = compiled(() => proxyaddr.compile(entries));
        assert.equal(ours === 'TypeError', theirs === 'TypeError', `compile ${JSON.stringify(entries)}`);
        if (ours === 'TypeError' || theirs === 'TypeError') return;
        for (const c of candidates) assert.equal(ours(c, 0), theirs(c, 0), `${c} in ${JSON.stringify(entries)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('walks X-Forwarded-For to the same chain', () => {
    const xff = fc
      .array(fc.oneof(address, fc.constantFrom('', ' ', ',')), { maxLength: 6 })
      .chain((parts) =>
        fc
          .array(fc.constantFrom(',', ', ', ' ,', ',,'), { minLength: parts.length, maxLength: parts.length })
          .map((seps) => parts.map((p, i) => p + (i < parts.length - 1 ? seps[i] : '')).join('')),
      );
    const setting = fc.oneof(list, fc.nat({ max: 4 }), fc.constant(true), fc.constant(false));
    fc.assert(
      fc.property(address, fc.option(xff, { nil: undefined }), setting, (peer, header, value) => {
        if (Array.isArray(value) && value.some(onlyOneReads)) return;
        const trust = compiled(() => compileTrust(value));
        if (trust === 'TypeError') return;
        const req = {
          socket: { remoteAddress: peer },
          headers: { 'x-forwarded-for': header },
        } as unknown as IncomingMessage;
        assert.deepEqual(
          forwardedChain(peer, header, trust),
          proxyaddr.all(req, trust),
          `${peer} ${JSON.stringify(header)} ${JSON.stringify(value)}`,
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('the listed differences, as proxy-addr answers them', () => {
    fc.assert(
      fc.property(nonStandardV4, (a) => {
        assert.throws(() => compileAddressList([a]), TypeError);
        assert.doesNotThrow(() => proxyaddr.compile([a]));
        assert.equal(compileAddressList(['loopback', '10.0.0.0/8'])(a, 0), false);
      }),
    );
    assert.equal(proxyaddr.compile(['loopback'])('0177.0.0.1', 0), true);
    assert.equal(proxyaddr.compile(['loopback'])('2130706433', 0), true);
    for (const a of ['64:ff9b::1.2.3.4', '::1.2.3.4', '1::1.2.3.4']) {
      assert.throws(() => proxyaddr.compile([a]), TypeError);
      assert.equal(compileAddressList([a])(a, 0), true);
      assert.equal(proxyaddr.compile(['::/1'])(a, 0), false);
      assert.equal(compileAddressList(['::/1'])(a, 0), true);
    }
    // Express throws on a blank 'trust proxy' string; we trust nothing.
    assert.equal(compileTrust('')('127.0.0.1', 0), false);
    assert.throws(() => proxyaddr.compile(['']), TypeError);
  });
});
