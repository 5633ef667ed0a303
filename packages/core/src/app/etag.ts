// Entity tags as the `etag` package (and so Express and serve-static) makes them, so a cache
// filled by an Express app keeps validating after the move:
//   body:  "<byte length in hex>-<SHA-1 base64, first 27 chars>"   (strong unless asked weak)
//   stats: "<size in hex>-<mtime ms in hex>"                       (weak unless asked strong)
import { createHash } from 'node:crypto';

/** What a file's tag is made of (an fs.Stats has both). */
export interface StatLike {
  size: number;
  mtime: Date;
}

export interface EtagOptions {
  /** W/ prefix; default false for bodies, true for stats. */
  weak?: boolean;
}

/** The tag of an empty body, precomputed as the etag package does. */
const EMPTY = '"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"';

function isStat(entity: unknown): entity is StatLike {
  return typeof entity === 'object' && entity !== null && !ArrayBuffer.isView(entity) &&
    typeof (entity as StatLike).size === 'number' && (entity as StatLike).mtime instanceof Date;
}

/** The tag of a body (a string counts as its UTF-8 bytes) or of a file's stats. */
export function etag(entity: string | Uint8Array | StatLike, options: EtagOptions = {}): string {
  let tag: string;
  let weak: boolean;
  if (isStat(entity)) {
    tag = `"${entity.size.toString(16)}-${entity.mtime.getTime().toString(16)}"`;
    weak = options.weak ?? true;
  } else if (typeof entity === 'string' || ArrayBuffer.isView(entity)) {
    const len = typeof entity === 'string' ? Buffer.byteLength(entity) : entity.byteLength;
    tag = len === 0 ? EMPTY : `"${len.toString(16)}-${createHash('sha1').update(entity).digest('base64').slice(0, 27)}"`;
    weak = options.weak ?? false;
  } else {
    throw new TypeError('etag() takes a string, a Uint8Array or file stats');
  }
  return weak ? `W/${tag}` : tag;
}

/** Makes a response body's tag; returns undefined (or '') for none. */
export type EtagFunction = (body: Buffer, encoding?: BufferEncoding) => string | undefined;

const weakBody: EtagFunction = (body) => etag(body, { weak: true });
const strongBody: EtagFunction = (body) => etag(body, { weak: false });

/**
 * The function for the app setting 'etag', as Express compiles it: true or 'weak' (the default,
 * also when unset), 'strong', false (none), or a function of (body, encoding) used as is.
 */
export function compileEtag(setting: unknown): EtagFunction | undefined {
  if (typeof setting === 'function') return setting as EtagFunction;
  switch (setting) {
    case undefined:
    case true:
    case 'weak':
      return weakBody;
    case 'strong':
      return strongBody;
    case false:
      return undefined;
    default:
      throw new TypeError(`unknown value for the etag setting: ${String(setting)}`);
  }
}
