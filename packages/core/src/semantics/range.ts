// The Range header (RFC 9110 14.1.1, 14.2): `bytes=` then int-ranges (`0-99`, `100-`) and
// suffix-ranges (`-500`). Unsatisfiable ranges are dropped; if none is left the answer is 416.
// Held to range-parser by range.test.ts, which lists where we follow RFC 9110 and it does not.

/** Inclusive byte positions, as Content-Range writes them. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * ranges to send; 'unsatisfiable' (416); or 'ignore': no Range, another unit, bad syntax, or more
 * ranges than allowed — the whole representation is sent with 200.
 */
export type RangeResult = ByteRange[] | 'unsatisfiable' | 'ignore';

export interface RangeOptions {
  /** More range-specs than this and the header is ignored (a defence against many tiny ranges). Default 100. */
  maxRanges?: number;
  /** Merge overlapping and adjacent ranges (default true). */
  combine?: boolean;
}

export const DEFAULT_MAX_RANGES = 100;

const DIGITS = /^\d+$/;

/** Parses `header` for a representation of `size` bytes. */
export function parseRange(size: number, header: string | undefined, options: RangeOptions = {}): RangeResult {
  if (header === undefined) return 'ignore';
  const eq = header.indexOf('=');
  // The range unit is case-insensitive (14.1); other units are not ours to serve.
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return 'ignore';
  // `#` lists allow empty elements and optional whitespace around commas.
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return 'ignore';
  if (specs.length > (options.maxRanges ?? DEFAULT_MAX_RANGES)) return 'ignore';
  const ranges: (ByteRange & { index: number })[] = [];
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index]!;
    const dash = spec.indexOf('-');
    if (dash < 0) return 'ignore';
    const first = spec.slice(0, dash).trim();
    const last = spec.slice(dash + 1).trim();
    if (first === '') {
      // suffix-range: the last N bytes; `-0` and any suffix of an empty representation are unsatisfiable.
      if (!DIGITS.test(last)) return 'ignore';
      const n = Number(last);
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1, index });
      continue;
    }
    if (!DIGITS.test(first) || (last !== '' && !DIGITS.test(last))) return 'ignore';
    const start = Number(first);
    const end = last === '' ? Infinity : Number(last);
    // first > last is invalid syntax (14.1.1): the whole header is ignored.
    if (end < start) return 'ignore';
    if (start >= size) continue; // unsatisfiable, others may still be
    ranges.push({ start, end: Math.min(end, size - 1), index });
  }
  if (ranges.length === 0) return 'unsatisfiable';
  const out = options.combine === false ? ranges : coalesce(ranges);
  return out.map(({ start, end }) => ({ start, end }));
}

/**
 * Merges ranges that overlap or touch (14.6 allows it), keeping the order in which each merged
 * range was first asked for.
 */
function coalesce<R extends ByteRange & { index: number }>(ranges: R[]): R[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: R[] = [];
  for (const r of sorted) {
    const top = merged[merged.length - 1];
    if (top && r.start <= top.end + 1) {
      top.end = Math.max(top.end, r.end);
      top.index = Math.min(top.index, r.index);
    } else {
      merged.push({ ...r });
    }
  }
  return merged.sort((a, b) => a.index - b.index);
}

// `bytes 0-99/1000`, or for a 416 `bytes */1000`.
export function contentRange(size: number, range?: ByteRange): string {
  return range ? `bytes ${range.start}-${range.end}/${size}` : `bytes */${size}`;
}
