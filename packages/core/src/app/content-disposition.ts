// Content-Disposition (RFC 6266) with a file name, written the way Express 5 writes it: a plain
// ASCII name goes in `filename`; any other gets an ASCII stand-in there ('?' for each character it
// cannot hold) and the exact name in `filename*` (RFC 8187/5987: UTF-8, percent-encoded).

export interface ContentDispositionOptions {
  /** 'attachment' (default) or 'inline' or another token. */
  type?: string;
  /**
   * The ASCII name for clients without `filename*`: true (default) derives it, false leaves
   * `filename` out, a string is used as given (it must be printable ASCII).
   */
  fallback?: boolean | string;
}

const TOKEN = /^[!#$%&'*+.0-9A-Z^_`a-z|~-]+$/;
const ASCII_TEXT = /^[\x20-\x7e]*$/;
/** A name holding `%XX` would be decoded by some clients, so it also gets `filename*`. */
const LOOKS_ENCODED = /%[0-9A-Fa-f]{2}/;
/** Characters encodeURIComponent leaves alone that RFC 8187's attr-char does not allow. */
const NOT_ATTR_CHAR = /['()*]/g;

/** `UTF-8''` and the name percent-encoded (an RFC 8187 ext-value). */
export function encodeExtValue(value: string): string {
  // A lone surrogate cannot be UTF-8: it becomes U+FFFD rather than throwing URIError.
  const wellFormed = value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return "UTF-8''" + encodeURIComponent(wellFormed).replace(NOT_ATTR_CHAR, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** A parameter value as a token when it is one, else as a quoted string. */
function paramValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** The header value: `attachment`, `attachment; filename=x.txt`, or with `filename*` as above. */
export function contentDisposition(filename?: string, options: ContentDispositionOptions = {}): string {
  const type = options.type ?? 'attachment';
  if (!TOKEN.test(type)) throw new TypeError(`invalid disposition type: ${type}`);
  if (filename === undefined) return type;
  if (typeof filename !== 'string') throw new TypeError('filename must be a string');
  const fallback = options.fallback ?? true;
  let plain: string | undefined;
  let extended: string | undefined;
  if (typeof fallback === 'string') {
    if (!ASCII_TEXT.test(fallback)) throw new TypeError(`fallback must be printable US-ASCII: ${fallback}`);
    plain = fallback;
    if (fallback !== filename) extended = filename;
  } else if (ASCII_TEXT.test(filename) && !LOOKS_ENCODED.test(filename)) {
    plain = filename;
  } else {
    extended = filename;
    // Per UTF-16 unit, as Express: an emoji (a surrogate pair) becomes '??'.
    if (fallback) plain = filename.replace(/[^\x20-\x7e]/g, '?');
  }
  let out = type;
  if (plain !== undefined) out += `; filename=${paramValue(plain)}`;
  if (extended !== undefined) out += `; filename*=${encodeExtValue(extended)}`;
  return out;
}
