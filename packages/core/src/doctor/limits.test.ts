// The address-space check reads /proc/self/limits' "Max address space" line (soft limit).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressSpaceLimit, checkAddressSpace, NEEDED_ADDRESS_SPACE_MIB } from './limits.js';

const limits = (soft: string, hard = 'unlimited') =>
  `Limit                     Soft Limit           Hard Limit           Units     \n` +
  `Max stack size            8388608              unlimited            bytes     \n` +
  `Max address space         ${soft.padEnd(20)} ${hard.padEnd(20)} bytes     \n`;

describe('address-space limit', () => {
  it('reads the soft limit in bytes, null when unlimited', () => {
    assert.equal(addressSpaceLimit(limits('536870912')), 536870912);
    assert.equal(addressSpaceLimit(limits('unlimited')), null);
    assert.equal(addressSpaceLimit(''), null);
  });

  it("this process's own limit parses", () => {
    const own = addressSpaceLimit();
    assert.ok(own === null || own > 0);
  });

  it('a limit under what Node needs is a problem that names ulimit -v and the figure', () => {
    const f = checkAddressSpace(512 * 1048576);
    assert.equal(f.level, 'problem');
    assert.match(f.message, /allows 512 MiB .*needs about 1024 MiB.*Failed to reserve virtual memory for CodeRange/);
    assert.match(f.fix!, new RegExp(`ulimit -v ${NEEDED_ADDRESS_SPACE_MIB * 1024}`));
    assert.equal(checkAddressSpace(2048 * 1048576).level, 'ok');
    assert.equal(checkAddressSpace(null).level, 'ok');
  });
});
