// Breaks valid request streams: record-level mutations (header fields, order, duplicates, drops)
// then byte-level ones (flips, truncation, garbage). Each returns a name, for the failure report.
import { MAX_TYPE } from '@fcgi/core/protocol';
import type { Rng } from './rng.js';

const TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99, 255] as const;
const IDS = [0, 1, 2, 3, 255, 256, 65535] as const;
const LENGTHS = [0, 1, 7, 8, 9, 127, 128, 255, 256, 4096, 65534, 65535] as const;

type RecordMutation = (records: Buffer[], rng: Rng) => void;
type ByteMutation = (bytes: Buffer, rng: Rng) => Buffer;

/** A copy of record `i` (mutations must not touch buffers a caller may share). */
function own(records: Buffer[], i: number): Buffer {
  return (records[i] = Buffer.from(records[i]!));
}

const recordMutations: Record<string, RecordMutation> = {
  version(rs, rng) {
    const i = rng.int(rs.length);
    own(rs, i)[0] = rng.pick([0, 2, 255]);
  },
  type(rs, rng) {
    const i = rng.int(rs.length);
    own(rs, i)[1] = rng.chance(0.8) ? rng.pick(TYPES) : rng.range(MAX_TYPE + 1, 255);
  },
  requestId(rs, rng) {
    const r = own(rs, rng.int(rs.length));
    r.writeUInt16BE(rng.pick(IDS), 2);
  },
  contentLength(rs, rng) {
    const r = own(rs, rng.int(rs.length));
    const len = r.readUInt16BE(4);
    r.writeUInt16BE(rng.chance(0.5) ? rng.pick(LENGTHS) : Math.max(0, Math.min(65535, len + rng.range(-9, 9))), 4);
  },
  paddingLength(rs, rng) {
    own(rs, rng.int(rs.length))[6] = rng.pick([0, 1, 7, 8, 255]);
  },
  reserved(rs, rng) {
    own(rs, rng.int(rs.length))[7] = rng.int(256);
  },
  drop(rs, rng) {
    rs.splice(rng.int(rs.length), 1);
  },
  duplicate(rs, rng) {
    const i = rng.int(rs.length);
    rs.splice(rng.int(rs.length + 1), 0, rs[i]!);
  },
  swap(rs, rng) {
    const i = rng.int(rs.length);
    const j = rng.int(rs.length);
    [rs[i], rs[j]] = [rs[j]!, rs[i]!];
  },
  shortBody(rs, rng) {
    // A fixed-size body (BEGIN_REQUEST, END_REQUEST...) cut short but framed correctly.
    const i = rng.int(rs.length);
    const r = rs[i]!;
    const len = r.readUInt16BE(4);
    if (len === 0) return;
    const n = rng.int(len);
    const out = Buffer.alloc(8 + n);
    r.copy(out, 0, 0, 8);
    r.copy(out, 8, 8, 8 + n);
    out.writeUInt16BE(n, 4);
    out[6] = 0;
    rs[i] = out;
  },
  abort(rs, rng) {
    const id = rng.pick(IDS);
    rs.splice(rng.int(rs.length + 1), 0, Buffer.from([1, 2, id >> 8, id & 0xff, 0, 0, 0, 0]));
  },
};

const byteMutations: Record<string, ByteMutation> = {
  flip(b, rng) {
    if (b.length) b[rng.int(b.length)]! ^= 1 << rng.int(8);
    return b;
  },
  set(b, rng) {
    if (b.length) b[rng.int(b.length)] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
    return b;
  },
  truncate(b, rng) {
    return b.subarray(0, rng.int(b.length + 1));
  },
  cut(b, rng) {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.size(5000)))]);
  },
  repeat(b, rng) {
    const at = rng.int(b.length + 1);
    const end = Math.min(b.length, at + rng.size(2000));
    return Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
  },
  garbage(b, rng) {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), rng.bytes(rng.size(3000)), b.subarray(at)]);
  },
  longLength(b, rng) {
    // A name-value length byte with the top bit set: a 4-byte length, often absurdly large.
    if (b.length) b[rng.int(b.length)] = 0x80 | rng.int(128);
    return b;
  },
};

const RECORD_NAMES = Object.keys(recordMutations);
const BYTE_NAMES = Object.keys(byteMutations);

/** Applies 1-4 mutations; returns the bytes to send and the names of what was done. */
export function mutate(records: Buffer[], rng: Rng): { bytes: Buffer; applied: string[] } {
  const applied: string[] = [];
  const rs = records.slice();
  const count = rng.range(1, 4);
  for (let i = 0; i < count && rs.length; i++) {
    if (rng.chance(0.6)) {
      const name = rng.pick(RECORD_NAMES);
      recordMutations[name]!(rs, rng);
      applied.push(name);
    }
  }
  let bytes: Buffer = Buffer.concat(rs);
  if (applied.length === 0 || rng.chance(0.4)) {
    const name = rng.pick(BYTE_NAMES);
    bytes = byteMutations[name]!(bytes, rng);
    applied.push(name);
  }
  return { bytes, applied };
}

/** Pure garbage, sometimes starting with a plausible header. */
export function garbage(rng: Rng): Buffer {
  const b = rng.bytes(rng.size(20_000));
  if (b.length >= 8 && rng.chance(0.5)) b[0] = 1;
  return b;
}

/** Sizes to split `len` bytes into writes: one write, byte by byte (short inputs), or up to ~64 random cuts. */
export function chunking(rng: Rng, len: number): number[] {
  const mode = rng.int(10);
  if (mode < 4 || len === 0) return [len];
  if (mode === 4 && len <= 256) return Array.from({ length: len }, () => 1);
  const out: number[] = [];
  const most = Math.max(1, Math.ceil(len / 32));
  let left = len;
  while (left > 0) {
    const n = Math.min(left, 1 + rng.int(rng.chance(0.3) ? Math.min(most, 16) : most));
    out.push(n);
    left -= n;
  }
  return out;
}
