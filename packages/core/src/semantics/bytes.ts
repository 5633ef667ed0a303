// Size limits as numbers or strings such as '100kb' or '1.5mb' (1024-based), read by the `bytes`
// package as body-parser reads them, but refusing what it cannot read instead of ignoring the limit.
import bytes from 'bytes';

/** Bytes for `value`; `fallback` when it is undefined or null. Throws TypeError on nonsense or a negative size. */
export function parseBytes(value: number | string | undefined | null, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : bytes.parse(value);
  if (n === null || Number.isNaN(n) || n < 0) throw new TypeError(`invalid byte limit: ${JSON.stringify(value)}`);
  return n;
}
