// resolveTarget: every listen spelling a user or FCGI_LISTEN may give, and the ones it must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTarget, type ListenTarget, type ResolvedTarget } from './listen-target.js';
import { ErrorCode, FcgiError } from '../errors.js';

const valid: [ListenTarget, ResolvedTarget][] = [
  ['/run/a.sock', { kind: 'unix', path: '/run/a.sock' }],
  ['./a.sock', { kind: 'unix', path: './a.sock' }],
  ['a.sock', { kind: 'unix', path: 'a.sock' }],
  ['run/fcgi', { kind: 'unix', path: 'run/fcgi' }],
  ['unix:/x', { kind: 'unix', path: '/x' }],
  ['unix:rel.sock', { kind: 'unix', path: 'rel.sock' }],
  ['9000', { kind: 'tcp', host: '127.0.0.1', port: 9000 }],
  [' 9000\n', { kind: 'tcp', host: '127.0.0.1', port: 9000 }],
  [':9000', { kind: 'tcp', host: '127.0.0.1', port: 9000 }],
  ['0.0.0.0:9000', { kind: 'tcp', host: '0.0.0.0', port: 9000 }],
  ['localhost:9000', { kind: 'tcp', host: 'localhost', port: 9000 }],
  ['[::1]:9000', { kind: 'tcp', host: '::1', port: 9000 }],
  ['127.0.0.1:0', { kind: 'tcp', host: '127.0.0.1', port: 0 }],
  [9000, { kind: 'tcp', host: '127.0.0.1', port: 9000 }],
  [0, { kind: 'tcp', host: '127.0.0.1', port: 0 }],
  [{ path: '/tmp/x.sock' }, { kind: 'unix', path: '/tmp/x.sock' }],
  [{ port: 9001 }, { kind: 'tcp', host: '127.0.0.1', port: 9001 }],
  [
    { port: 9001, host: '::1' },
    { kind: 'tcp', host: '::1', port: 9001 },
  ],
  // An empty host means the default, as in ":9000", never "every interface".
  [
    { port: 9001, host: '' },
    { kind: 'tcp', host: '127.0.0.1', port: 9001 },
  ],
  [{ fd: 0 }, { kind: 'fd', fd: 0 }],
  [{ fd: 3 }, { kind: 'fd', fd: 3 }],
];

test('resolveTarget reads paths, ports, host:port, unix: and objects', () => {
  for (const [input, expected] of valid) {
    assert.deepEqual(resolveTarget(input), expected, `resolveTarget(${JSON.stringify(input)})`);
  }
});

const invalid: ListenTarget[] = [
  'abc',
  'localhost',
  'host:99999',
  '65536',
  ':65536',
  '[::1]',
  '[::1]:99999',
  '::1:9000',
  '',
  '   ',
  'unix:',
  'host:port',
  '-1',
  '9000x',
  65536,
  -1,
  1.5,
  Number.NaN,
  { port: 70000 },
  { port: -5, host: '127.0.0.1' },
  { path: '' },
  { fd: -1 },
  { fd: 0.5 },
];

test('resolveTarget refuses what it cannot read with ERR_FCGI_INVALID_LISTEN_TARGET', () => {
  for (const input of invalid) {
    assert.throws(
      () => resolveTarget(input),
      (err: unknown) => {
        assert.ok(err instanceof FcgiError, `${JSON.stringify(input)} threw ${String(err)}`);
        assert.equal(err.code, ErrorCode.INVALID_LISTEN_TARGET);
        assert.equal(err.code, 'ERR_FCGI_INVALID_LISTEN_TARGET');
        return true;
      },
      `resolveTarget(${JSON.stringify(input)}) should throw`,
    );
  }
});
