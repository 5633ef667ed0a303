// Decoding a body by its charset: UTF-8 and Latin-1 through Buffer (exact), everything else the
// WHATWG Encoding Standard knows through TextDecoder (utf-16le/be, windows-125x, shift_jis...).

export type Decoder = (buf: Uint8Array) => string;

const LATIN1 = new Set(['latin1', 'iso-8859-1', 'iso8859-1', 'l1', 'binary']);
const UTF8 = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/**
 * A decoder for `charset`, or null when it is unknown. A leading byte order mark is dropped, as
 * iconv-lite does for body-parser. Latin-1 maps bytes to U+0000-U+00FF (WHATWG would read it as
 * windows-1252).
 */
export function decoderFor(charset: string): Decoder | null {
  const label = charset.trim().toLowerCase();
  if (UTF8.has(label)) return (buf) => stripBom(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8'));
  if (LATIN1.has(label)) return (buf) => Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
  try {
    const td = new TextDecoder(label);
    return (buf) => td.decode(buf);
  } catch {
    return null;
  }
}
