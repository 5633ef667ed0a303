// 'trust proxy' compiled as Express and proxy-addr do: addresses, CIDRs (IPv4, IPv6, mapped),
// netmasks, names, hop counts, functions; and the X-Forwarded-For walk.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileAddressList,
  compileTrust,
  forwardedChain,
  parseForwardedFor,
  parseIp,
  trustFor,
} from './proxy-trust.js';

function check(list: string[], rows: [string, boolean][]): void {
  const trust = compileAddressList(list);
  for (const [addr, expected] of rows) assert.equal(trust(addr, 0), expected, `${addr} in ${list.join(',')}`);
}

describe('addresses', () => {
  it('parses IPv4, IPv6, compressed, mapped and zoned forms', { timeout: 5_000 }, () => {
    assert.deepEqual([...parseIp('10.1.2.3')!.bytes], [10, 1, 2, 3]);
    assert.deepEqual([...parseIp('::')!.bytes], new Array(16).fill(0));
    assert.deepEqual([...parseIp('2001:db8::1')!.bytes], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual([...parseIp('::ffff:1.2.3.4')!.bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    assert.deepEqual([...parseIp('fe80::1%eth0')!.bytes].slice(0, 2), [0xfe, 0x80]);
    assert.equal(parseIp('1:2:3:4:5:6:7:8')!.v6, true);
    for (const bad of ['', 'localhost', '1.2.3', '256.1.1.1', '1.2.3.4:80', '[::1]', '::1::2'])
      assert.equal(parseIp(bad), null, bad);
  });

  it('single addresses, IPv4 CIDRs and netmasks', { timeout: 5_000 }, () => {
    check(
      ['10.0.0.1'],
      [
        ['10.0.0.1', true],
        ['10.0.0.2', false],
        ['::ffff:10.0.0.1', true],
      ],
    );
    check(
      ['10.0.0.0/8'],
      [
        ['10.255.1.2', true],
        ['11.0.0.1', false],
      ],
    );
    check(
      ['10.0.0.0/255.0.0.0'],
      [
        ['10.255.1.2', true],
        ['11.0.0.1', false],
      ],
    );
    check(
      ['192.168.1.0/25'],
      [
        ['192.168.1.127', true],
        ['192.168.1.128', false],
      ],
    );
    check(
      ['1.2.3.4/32'],
      [
        ['1.2.3.4', true],
        ['1.2.3.5', false],
      ],
    );
    check(['::ffff:10.0.0.1'], [['10.0.0.1', true]]); // a mapped address without a range counts as IPv4
  });

  it('IPv6 CIDRs, and IPv4 addresses against IPv6 ranges', { timeout: 5_000 }, () => {
    check(
      ['2001:db8::/32'],
      [
        ['2001:db8:1::1', true],
        ['2001:db9::1', false],
        ['10.0.0.1', false],
      ],
    );
    check(
      ['::1'],
      [
        ['::1', true],
        ['::2', false],
        ['127.0.0.1', false],
      ],
    );
    check(
      ['::ffff:0:0/96'],
      [
        ['1.2.3.4', true],
        ['::ffff:5.6.7.8', true],
        ['2001::1', false],
      ],
    );
    check(
      ['fe80::/10'],
      [
        ['febf::1', true],
        ['fec0::1', false],
        ['fe80::1%eth0', true],
      ],
    );
  });

  it('the names loopback, linklocal and uniquelocal', { timeout: 5_000 }, () => {
    check(
      ['loopback'],
      [
        ['127.0.0.1', true],
        ['127.9.8.7', true],
        ['::1', true],
        ['::ffff:127.0.0.1', true],
        ['10.0.0.1', false],
      ],
    );
    check(
      ['linklocal'],
      [
        ['169.254.10.1', true],
        ['fe80::abcd', true],
        ['169.255.0.1', false],
      ],
    );
    check(
      ['uniquelocal'],
      [
        ['10.1.1.1', true],
        ['172.16.0.1', true],
        ['172.31.255.255', true],
        ['172.32.0.0', false],
        ['192.168.0.9', true],
        ['fd12::1', true],
        ['fe00::1', false],
        ['8.8.8.8', false],
      ],
    );
    check(
      ['loopback', '203.0.113.0/24'],
      [
        ['127.0.0.1', true],
        ['203.0.113.9', true],
        ['203.0.114.1', false],
      ],
    );
  });

  it('never trusts what is not an address, and refuses bad entries', { timeout: 5_000 }, () => {
    check(
      ['loopback'],
      [
        ['', false],
        ['unknown', false],
        ['127.0.0.1:80', false],
        ['[::1]', false],
      ],
    );
    for (const bad of [
      'nope',
      '10.0.0.0/33',
      '10.0.0.0/0',
      '::/0',
      '10.0.0.0/255.0.255.0',
      '10.0.0.0/x',
      '::1/129',
      '::1/255.0.0.0',
    ]) {
      assert.throws(() => compileAddressList([bad]), TypeError, bad);
    }
  });
});

describe('the trust proxy setting', () => {
  it('true, hop counts, strings, arrays, functions, false', { timeout: 5_000 }, () => {
    assert.equal(compileTrust(true)('anything', 7), true);
    const two = compileTrust(2);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => two('8.8.8.8', i)),
      [true, true, false, false],
    );
    const str = compileTrust('loopback, 10.0.0.0/8');
    assert.deepEqual(
      ['127.0.0.1', '10.2.3.4', '8.8.8.8'].map((a) => str(a, 0)),
      [true, true, false],
    );
    const arr = compileTrust(['uniquelocal']);
    assert.equal(arr('192.168.1.1', 0), true);
    const fn = (addr: string) => addr === '1.1.1.1';
    assert.equal(compileTrust(fn), fn);
    for (const off of [false, undefined, null, 0, ''])
      assert.equal(compileTrust(off)('127.0.0.1', 0), false, String(off));
    assert.throws(() => compileTrust('loopback, bogus'), TypeError);
  });

  it('compiles each value once', { timeout: 5_000 }, () => {
    const list = ['loopback'];
    assert.equal(trustFor(list), trustFor(list));
    assert.equal(trustFor('10.0.0.0/8'), trustFor('10.0.0.0/8'));
  });
});

describe('X-Forwarded-For', () => {
  it('splits from the right, dropping blanks', { timeout: 5_000 }, () => {
    assert.deepEqual(parseForwardedFor('a, b,c , ,d'), ['d', 'c', 'b', 'a']);
    assert.deepEqual(parseForwardedFor(''), []);
    assert.deepEqual(parseForwardedFor(' 2001:db8::1 ,10.0.0.1'), ['10.0.0.1', '2001:db8::1']);
  });

  it('walks until the first untrusted hop', { timeout: 5_000 }, () => {
    const xff = '198.51.100.7, 10.0.0.2';
    assert.deepEqual(forwardedChain('127.0.0.1', xff, compileTrust(false)), ['127.0.0.1']);
    assert.deepEqual(forwardedChain('127.0.0.1', xff, compileTrust('loopback')), ['127.0.0.1', '10.0.0.2']);
    assert.deepEqual(forwardedChain('127.0.0.1', xff, compileTrust('loopback, uniquelocal')), [
      '127.0.0.1',
      '10.0.0.2',
      '198.51.100.7',
    ]);
    assert.deepEqual(forwardedChain('127.0.0.1', xff, compileTrust(true)), ['127.0.0.1', '10.0.0.2', '198.51.100.7']);
    assert.deepEqual(forwardedChain('127.0.0.1', xff, compileTrust(1)), ['127.0.0.1', '10.0.0.2']);
    assert.deepEqual(forwardedChain('8.8.8.8', xff, compileTrust('loopback')), ['8.8.8.8']);
    assert.deepEqual(forwardedChain('127.0.0.1', undefined, compileTrust(true)), ['127.0.0.1']);
    // A spoofed entry left of an untrusted hop is never reached.
    assert.deepEqual(forwardedChain('127.0.0.1', '10.9.9.9, 8.8.8.8', compileTrust('loopback, uniquelocal')), [
      '127.0.0.1',
      '8.8.8.8',
    ]);
  });

  it('calls a trust function with each address and its hop index', { timeout: 5_000 }, () => {
    const calls: [string, number][] = [];
    const chain = forwardedChain('127.0.0.1', 'c, b, a', (addr, i) => {
      calls.push([addr, i]);
      return addr !== 'b';
    });
    assert.deepEqual(calls, [
      ['127.0.0.1', 0],
      ['a', 1],
      ['b', 2],
    ]);
    assert.deepEqual(chain, ['127.0.0.1', 'a', 'b']);
  });
});
