// Decoding a body by its charset as body-parser does, through iconv-lite, with UTF-8 and Latin-1
// (the charsets nearly every body uses) straight through Buffer, which gives the same strings.
import iconv from 'iconv-lite';

export type Decoder = (buf: Uint8Array) => string;

const LATIN1 = new Set(['latin1', 'iso-8859-1', 'iso8859-1', 'l1', 'binary']);
const UTF8 = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * A decoder for `charset`, or null when iconv-lite does not know it. A leading byte order mark
 * is dropped, as iconv-lite does for body-parser. Latin-1 maps bytes to U+0000-U+00FF.
 * (Node 20's TextDecoder is not used: its windows-1252 drops the bytes 0x80-0x9F.)
 */
export function decoderFor(charset: string): Decoder | null {
  const label = charset.trim().toLowerCase();
  if (UTF8.has(label)) return (buf) => stripBom(asBuffer(buf).toString('utf8'));
  if (LATIN1.has(label)) return (buf) => asBuffer(buf).toString('latin1');
  if (!iconv.encodingExists(label)) return null;
  return (buf) => iconv.decode(asBuffer(buf), label);
}
