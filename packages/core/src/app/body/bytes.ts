// Size limits as numbers or strings such as '100kb' or '1.5mb' (1024-based, as the `bytes`
// package that body-parser uses reads them).

const UNITS: Record<string, number> = {
  b: 1, kb: 1 << 10, mb: 1 << 20, gb: 1 << 30, tb: 1024 ** 4, pb: 1024 ** 5,
};

/** Bytes for `value`; `fallback` when it is undefined or null. Throws TypeError on nonsense. */
export function parseBytes(value: number | string | undefined | null, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') {
    if (Number.isNaN(value) || value < 0) throw new TypeError(`invalid byte limit: ${value}`);
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmgtp]?b)?\s*$/i.exec(value);
  if (!m) throw new TypeError(`invalid byte limit: ${JSON.stringify(value)}`);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}
