// Entity tags made by the etag package (Express's and serve-static's), so a cache filled by an
// Express app keeps validating after the move:
//   body:  "<byte length in hex>-<SHA-1 base64, first 27 chars>"   (strong unless asked weak)
//   stats: "<size in hex>-<mtime ms in hex>"                       (weak unless asked strong)
import makeEtag from 'etag';

/** What the etag package accepts as file stats (an fs.Stats has all four). */
export interface StatLike {
  size: number;
  mtime: Date;
  ctime: Date;
  ino: number;
}

export interface EtagOptions {
  /** W/ prefix; default false for bodies, true for stats. */
  weak?: boolean;
}

/** The tag of a body (a string counts as its UTF-8 bytes) or of a file's stats. */
export function etag(entity: string | Uint8Array | StatLike, options: EtagOptions = {}): string {
  // The package takes a Buffer, not any byte view: wrap one without copying.
  const e =
    ArrayBuffer.isView(entity) && !Buffer.isBuffer(entity)
      ? Buffer.from(entity.buffer, entity.byteOffset, entity.byteLength)
      : (entity as string | Buffer | StatLike);
  return makeEtag(e, options);
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
      throw new TypeError(`unknown value for etag function: ${String(setting)}`);
  }
}
