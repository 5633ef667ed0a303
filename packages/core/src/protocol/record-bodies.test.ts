// The fixed 8-byte bodies: BEGIN_REQUEST, END_REQUEST, UNKNOWN_TYPE (and the empty ABORT_REQUEST).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeBeginRequest,
  decodeEndRequest,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeEndRequest,
  encodeUnknownType,
  isProtocolError,
  Role,
  Status,
  writeEndRequest,
} from './index.js';

const bytes = (b: Uint8Array): number[] => [...b];

test('encodeBeginRequest byte table', () => {
  const table: { id: number; role: number; keep: boolean; wire: number[] }[] = [
    { id: 1, role: Role.RESPONDER, keep: true, wire: [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0] },
    { id: 1, role: Role.RESPONDER, keep: false, wire: [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0] },
    { id: 0x1234, role: Role.FILTER, keep: false, wire: [1, 1, 0x12, 0x34, 0, 8, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0] },
    { id: 0xffff, role: Role.AUTHORIZER, keep: true, wire: [1, 1, 0xff, 0xff, 0, 8, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0] },
    { id: 2, role: 0x0102, keep: true, wire: [1, 1, 0, 2, 0, 8, 0, 0, 1, 2, 1, 0, 0, 0, 0, 0] },
  ];
  for (const { id, role, keep, wire } of table) {
    assert.deepEqual(bytes(encodeBeginRequest(id, role, keep)), wire);
    assert.deepEqual(decodeBeginRequest(Buffer.from(wire.slice(8))), { role, keepConn: keep });
  }
});

test('decodeBeginRequest reads only bit 0 of flags and ignores the reserved bytes', () => {
  const table: { body: number[]; role: number; keepConn: boolean }[] = [
    { body: [0, 1, 0xfe, 0, 0, 0, 0, 0], role: 1, keepConn: false },
    { body: [0, 1, 0xff, 0, 0, 0, 0, 0], role: 1, keepConn: true },
    { body: [0, 3, 1, 9, 9, 9, 9, 9], role: 3, keepConn: true },
    { body: [0xff, 0xff, 0, 0, 0, 0, 0, 0], role: 0xffff, keepConn: false },
    { body: [0, 1, 1, 0, 0, 0, 0, 0, 42], role: 1, keepConn: true }, // longer body: extra bytes ignored
  ];
  for (const { body, role, keepConn } of table)
    assert.deepEqual(decodeBeginRequest(Buffer.from(body)), { role, keepConn });
});

test('a BEGIN_REQUEST body shorter than 8 bytes is a ProtocolError', () => {
  for (const body of [[], [0, 1], [0, 1, 1, 0, 0, 0, 0]]) {
    assert.throws(
      () => decodeBeginRequest(Buffer.from(body)),
      (e: unknown) => isProtocolError(e) && e.code === 'ERR_FCGI_MALFORMED',
    );
  }
});

test('encodeEndRequest / decodeEndRequest byte table', () => {
  const table: { id: number; app: number; status: number; wire: number[] }[] = [
    { id: 1, app: 0, status: Status.REQUEST_COMPLETE, wire: [1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
    { id: 1, app: 0x01020304, status: Status.CANT_MPX_CONN, wire: [1, 3, 0, 1, 0, 8, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0] },
    { id: 0x0100, app: 500, status: Status.OVERLOADED, wire: [1, 3, 1, 0, 0, 8, 0, 0, 0, 0, 1, 0xf4, 2, 0, 0, 0] },
    {
      id: 0xffff,
      app: 0xffffffff,
      status: Status.UNKNOWN_ROLE,
      wire: [1, 3, 0xff, 0xff, 0, 8, 0, 0, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0],
    },
    { id: 9, app: 0x80000000, status: 0, wire: [1, 3, 0, 9, 0, 8, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0] },
  ];
  for (const { id, app, status, wire } of table) {
    assert.deepEqual(bytes(encodeEndRequest(id, app, status)), wire);
    // appStatus is unsigned: 0xffffffff must not come back as -1.
    assert.deepEqual(decodeEndRequest(Buffer.from(wire.slice(8))), { appStatus: app, protocolStatus: status });
  }
});

test('writeEndRequest writes 16 bytes at an offset and returns the offset after them', () => {
  const out = Buffer.alloc(20, 0xee);
  assert.equal(writeEndRequest(out, 2, 1, 7, Status.REQUEST_COMPLETE), 18);
  assert.deepEqual(bytes(out), [0xee, 0xee, 1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0xee, 0xee]);
});

test('a short END_REQUEST body is a ProtocolError', () => {
  assert.throws(
    () => decodeEndRequest(Buffer.from([0, 0, 0, 0, 0, 0, 0])),
    (e: unknown) => isProtocolError(e) && e.code === 'ERR_FCGI_MALFORMED',
  );
});

test('encodeUnknownType and encodeAbortRequest byte tables', () => {
  assert.deepEqual(bytes(encodeUnknownType(99)), [1, 11, 0, 0, 0, 8, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(bytes(encodeUnknownType(0)), [1, 11, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(bytes(encodeUnknownType(255)), [1, 11, 0, 0, 0, 8, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(bytes(encodeAbortRequest(7)), [1, 2, 0, 7, 0, 0, 0, 0]);
  assert.deepEqual(bytes(encodeAbortRequest(0x0102)), [1, 2, 1, 2, 0, 0, 0, 0]);
});
