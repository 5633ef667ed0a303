// The router's index: which layers could match a request path, in stack order, without trying
// each one. Every path is keyed by its leading whole segments — literal text, or a lone `:param`
// (any non-empty segment) — and stored in a tree of those keys. A request walks the tree along its
// own segments (a literal child and the param child, both when both exist); the layers stored on
// the nodes it reaches are the only ones that can match. The index only drops layers that cannot
// match: the router still runs each survivor's matcher, in stack order, so Express's semantics hold.
import type { PathIndex } from '@fcgi/core';
import type { Token } from 'path-to-regexp';

/** What the index reads of a layer: the tokens of each of its paths (null: no constraint). */
export interface KeyedLayer {
  readonly tokens: readonly (readonly Token[] | null)[];
  /** A route (the whole path) rather than a prefix. */
  readonly end: boolean;
  /** use('/'): every path. */
  readonly slash: boolean;
}

/** A segment key: literal text (folded when case-insensitive), or PARAM for a lone parameter. */
export const PARAM: unique symbol = Symbol('param');
export type SegmentKey = string | typeof PARAM;

class Node {
  /** Layers whose key ends here and that may match longer paths too (use(), groups...), ascending. */
  readonly own: number[] = [];
  /** Layers that match only a path ending here (routes made of whole segments), ascending. */
  readonly exact: number[] = [];
  readonly children = new Map<string, Node>();
  param: Node | undefined = undefined;
  /** `own` merged with every ancestor's (computed on first use). */
  acc: readonly number[] | undefined = undefined;
  /** `acc` with `exact` (computed on first use). */
  accExact: readonly number[] | undefined = undefined;
  constructor(readonly parent: Node | undefined) {}
}

const EMPTY: readonly number[] = [];
const ASCII = /^[\x00-\x7f]*$/;
/** Upper-case ASCII, or anything not ASCII: what fold() may change. */
const UNFOLDED = /[A-Z]|[^\x00-\x7f]/;

/**
 * Case folding that never separates what a case-insensitive path-to-regexp regex (flag 'i', no
 * 'u') treats as equal: such characters have equal toUpperCase(). Lower case for ASCII (cheaper:
 * a path that is already lower case comes back as is).
 */
export function fold(s: string): string {
  if (!UNFOLDED.test(s)) return s;
  return ASCII.test(s) ? s.toLowerCase() : s.toUpperCase().toLowerCase();
}

/**
 * The leading segments a path's matches must all start with. Conservative: it stops at the first
 * segment that is not plain text or a lone param (a group, a wildcard, text and a param mixed).
 */
export function segmentKeys(tokens: readonly Token[] | null, sensitive: boolean): SegmentKey[] {
  return keyPath(tokens, sensitive).keys;
}

/** The keys, and whether they cover the whole path (nothing but whole segments). */
function keyPath(tokens: readonly Token[] | null, sensitive: boolean): { keys: SegmentKey[]; whole: boolean } {
  const keys: SegmentKey[] = [];
  const partial = { keys, whole: false };
  if (tokens === null) return partial;
  const first = tokens[0];
  if (first?.type !== 'text' || !first.value.startsWith('/')) return partial; // no '/'-led path: no constraint
  // The segment being read: literal text so far, a lone param, or a mix (which ends the key).
  let text = '';
  let param = false;
  let mixed = false;
  const close = (): boolean => {
    if (mixed) return false;
    keys.push(param ? PARAM : sensitive ? text : fold(text));
    text = '';
    param = false;
    return true;
  };
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.type === 'text') {
      const parts = (t === 0 ? token.value.slice(1) : token.value).split('/');
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && !close()) return partial;
        if (parts[i] === '') continue;
        if (param) mixed = true;
        else text += parts[i];
      }
    } else if (token.type === 'param') {
      if (param || text !== '') mixed = true;
      else param = true;
    } else {
      // A wildcard, or a group: the segment before a group is whole only when the group starts a
      // new segment and so does whatever follows it.
      if (token.type === 'group') {
        const inner = token.tokens[0];
        const after = tokens[t + 1];
        if (
          inner?.type === 'text' &&
          inner.value.startsWith('/') &&
          (after === undefined || (after.type === 'text' && after.value.startsWith('/')))
        )
          close();
      }
      return partial;
    }
  }
  // The end of the path ends the last segment.
  return { keys, whole: close() };
}

export class LayerIndex implements PathIndex {
  readonly #root = new Node(undefined);
  readonly #all: readonly number[];
  readonly #sensitive: boolean;

  constructor(stack: readonly KeyedLayer[], sensitive: boolean) {
    this.#sensitive = sensitive;
    this.#all = stack.map((_, i) => i);
    stack.forEach((layer, i) => {
      for (const tokens of layer.slash ? [null] : layer.tokens) {
        let node = this.#root;
        const { keys, whole } = keyPath(tokens, sensitive);
        for (const key of keys) {
          if (key === PARAM) {
            node = node.param ??= new Node(node);
          } else {
            let child = node.children.get(key);
            if (!child) node.children.set(key, (child = new Node(node)));
            node = child;
          }
        }
        // A route of whole segments matches only paths with exactly those (and a trailing slash).
        const list = whole && layer.end ? node.exact : node.own;
        if (list[list.length - 1] !== i) list.push(i);
      }
    });
  }

  /** Indexes of the layers that may match `path` (a pathname), ascending; do not modify. */
  candidates(path: string): readonly number[] {
    if (path.charCodeAt(0) !== 47) return this.#all;
    const lists: (readonly number[])[] = [];
    walk(this.#root, this.#sensitive ? path : fold(path), 1, lists);
    let out = lists[0]!;
    for (let i = 1; i < lists.length; i++) out = mergeSorted(out, lists[i]!);
    return out;
  }
}

/**
 * Follows the path's segments from `node` (`pos`: where the next segment starts). Collects the
 * deepest nodes reached — a node's acc covers its ancestors — and the exact routes of every node
 * where the path ends (with or without a trailing slash).
 */
function walk(node: Node, path: string, pos: number, lists: (readonly number[])[]): void {
  let deeper = false;
  const ends = pos >= path.length;
  if (pos <= path.length) {
    let end = path.indexOf('/', pos);
    if (end < 0) end = path.length;
    if (node.children.size > 0) {
      const child = node.children.get(path.slice(pos, end));
      if (child) {
        walk(child, path, end + 1, lists);
        deeper = true;
      }
    }
    if (node.param && end > pos) {
      walk(node.param, path, end + 1, lists);
      deeper = true;
    }
  }
  if (!deeper) lists.push(ends ? accExactOf(node) : accOf(node));
  else if (ends && node.exact.length > 0) lists.push(node.exact);
}

function accOf(node: Node): readonly number[] {
  if (node.acc) return node.acc;
  const up = node.parent ? accOf(node.parent) : EMPTY;
  return (node.acc = mergeSorted(up, node.own));
}

function accExactOf(node: Node): readonly number[] {
  return (node.accExact ??= mergeSorted(accOf(node), node.exact));
}

/** Union of two ascending lists, ascending, without duplicates. */
export function mergeSorted(a: readonly number[], b: readonly number[]): readonly number[] {
  if (a === b || b.length === 0) return a;
  if (a.length === 0) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out.push(x);
      i++;
    } else if (y < x) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
