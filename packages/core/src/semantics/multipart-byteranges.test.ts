// multipart/byteranges bodies laid out for a 206 with several ranges.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planMultipart } from './multipart-byteranges.js';

describe('multipart/byteranges plan', () => {
  it('lays out parts per RFC 2046 with an exact length', () => {
    const data = Buffer.from('0123456789abcdefghij');
    const plan = planMultipart(
      [
        { start: 0, end: 2 },
        { start: 10, end: 12 },
      ],
      data.length,
      'text/plain',
      'BND',
    );
    assert.equal(plan.contentType, 'multipart/byteranges; boundary=BND');
    const body = Buffer.concat(plan.segments.map((s) => (Buffer.isBuffer(s) ? s : data.subarray(s.start, s.end + 1))));
    assert.equal(
      body.toString(),
      '--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-2/20\r\n\r\n012' +
        '\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/20\r\n\r\nabc' +
        '\r\n--BND--\r\n',
    );
    assert.equal(plan.length, body.length);
  });

  it('makes a fresh random boundary each time', () => {
    const a = planMultipart(
      [
        { start: 0, end: 0 },
        { start: 2, end: 2 },
      ],
      3,
      undefined,
    ).contentType;
    const b = planMultipart(
      [
        { start: 0, end: 0 },
        { start: 2, end: 2 },
      ],
      3,
      undefined,
    ).contentType;
    assert.match(a, /boundary=[0-9a-f]{24}$/);
    assert.notEqual(a, b);
  });
});
