// URLs for Location headers and redirects: the encodeurl package (Express's), with CR and LF
// refused rather than encoded, so a header injection attempt is an error, not a redirect.
import encode from 'encodeurl';
import { ErrorCode, FcgiError } from '../errors.js';

const CR_LF = /[\r\n]/;

/**
 * A URL with every character a URL cannot hold percent-encoded (UTF-8), valid %XX escapes left
 * alone, a lone surrogate as U+FFFD (encodeurl's rules). Throws FcgiError INVALID_HEADER on a raw
 * CR or LF (encodeurl would write %0D and %0A).
 */
export function encodeUrl(url: string): string {
  if (CR_LF.test(url)) throw new FcgiError(ErrorCode.INVALID_HEADER, 'CR or LF in a redirect or Location target');
  return encode(url);
}
