// The `extended` urlencoded syntax: `a[b][c]=1`, `a[]=1&a[]=2`, `a[0]=x`, as the qs package
// reads it for body-parser. Written to be safe with hostile keys: every object is
// null-prototype, and a `__proto__` segment drops its parameter, so nothing can reach
// Object.prototype, even through code that later copies req.body with Object.assign.
// Held to qs by nested-query-vs-qs.test.ts, which lists where the two differ.

export type NestedValue = string | NestedValue[] | NestedObject;
export interface NestedObject {
  [key: string]: NestedValue;
}

export interface NestedOptions {
  /** Most bracket levels in a key; more is a RangeError. */
  depth: number;
  /** Highest array index kept as an index; larger ones become object keys (no huge sparse arrays). */
  arrayLimit: number;
  /** Percent-decoding of a key or value ('+' already replaced by a space). */
  decode: (s: string) => string;
}

/** ['a', 'b', ''] for `a[b][]`; a key that does not start with a name is kept whole. */
export function splitKey(key: string, depth: number): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  let rest = key.slice(open);
  const bracket = /^\[([^[\]]*)\]/;
  for (let m = bracket.exec(rest); m; m = bracket.exec(rest)) {
    if (segments.length > depth)
      throw new RangeError(`key ${JSON.stringify(key)} is nested deeper than ${depth} levels`);
    segments.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  if (segments.length === 1) return [key];
  // Text after the last `]` (a[b]c, a[b) stays one more, literal, segment, as qs keeps it.
  if (rest) segments.push(rest);
  return segments;
}

function isIndex(s: string, limit: number): boolean {
  return /^(0|[1-9]\d{0,9})$/.test(s) && Number(s) <= limit;
}

function toObject(arr: NestedValue[]): NestedObject {
  const o: NestedObject = Object.create(null);
  arr.forEach((v, i) => {
    o[i] = v;
  });
  return o;
}

function isContainer(v: NestedValue | undefined): v is NestedValue[] | NestedObject {
  return typeof v === 'object' && v !== null;
}

/** Puts `value` at the path `segments` below `root`. */
function assign(root: NestedObject, segments: string[], value: string, arrayLimit: number): void {
  let parent: NestedObject | NestedValue[] = root;
  let key: string | number = segments[0]!;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const arrayish = seg === '' || isIndex(seg, arrayLimit);
    let child: NestedValue | undefined = (parent as NestedObject)[key as string];
    if (child === undefined) {
      child = arrayish ? [] : (Object.create(null) as NestedObject);
    } else if (!isContainer(child)) {
      // a=1&a[b]=2: keep both; the scalar goes first.
      child = arrayish ? [child] : Object.assign(Object.create(null) as NestedObject, { 0: child });
    } else if (Array.isArray(child) && !arrayish) {
      child = toObject(child);
    }
    (parent as NestedObject)[key as string] = child;
    parent = child as NestedObject | NestedValue[];
    if (Array.isArray(parent)) key = seg === '' ? parent.length : Number(seg);
    else key = seg === '' ? String(Object.keys(parent).length) : seg;
  }
  const existing = (parent as NestedObject)[key as string];
  if (existing === undefined) (parent as NestedObject)[key as string] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else (parent as NestedObject)[key as string] = [existing, value];
}

/** Sparse arrays (a[1]=x&a[5]=y) close their gaps, keeping order, as qs does. */
function compact(v: NestedValue): NestedValue {
  if (Array.isArray(v)) {
    const out: NestedValue[] = [];
    v.forEach((x) => out.push(compact(x)));
    return out;
  }
  if (isContainer(v)) for (const k of Object.keys(v)) v[k] = compact(v[k]!);
  return v;
}

/** Parses `a[b]=1&c[]=2` into null-prototype objects and arrays. */
export function parseNested(body: string, options: NestedOptions): NestedObject {
  const root: NestedObject = Object.create(null);
  for (const piece of body.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const rawKey = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    const key = options.decode(rawKey.replace(/\+/g, ' '));
    if (!key) continue;
    const segments = splitKey(key, options.depth);
    if (segments.includes('__proto__')) continue;
    assign(root, segments, options.decode(rawValue.replace(/\+/g, ' ')), options.arrayLimit);
  }
  return compact(root) as NestedObject;
}
