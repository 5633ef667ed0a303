// Content-Disposition (RFC 6266) with a file name, from the `content-disposition` package that
// Express 5 uses: a plain name goes in `filename`; any other also gets `filename*` (RFC 8187, UTF-8
// percent-encoded) and an ISO-8859-1 stand-in in `filename` ('?' for what it cannot hold).
import { create } from 'content-disposition';

export interface ContentDispositionOptions {
  /** 'attachment' (default), 'inline' or another token (lower-cased). */
  type?: string;
  /**
   * The name for clients without `filename*`: true (default) derives it, false leaves `filename`
   * out, a string is used as given (it must be ISO-8859-1).
   */
  fallback?: boolean | string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The header value: `attachment`, `attachment; filename="x.txt"`, or with `filename*` as above.
 * Throws TypeError on a bad type or fallback. Unlike the package, a lone surrogate (which UTF-8
 * cannot hold) becomes U+FFFD instead of a URIError.
 */
export function contentDisposition(filename?: string, options?: ContentDispositionOptions): string {
  const name = typeof filename === 'string' ? filename.replace(LONE_SURROGATE, '\uFFFD') : filename;
  return create(name, options);
}
