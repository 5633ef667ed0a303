// Signed cookie values: "s:" + value + "." + HMAC-SHA256 (base64, no padding), as cookie-parser
// and Express write them, so cookies signed by either side verify on the other.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The prefix that marks a signed value inside a cookie. */
export const SIGNED_PREFIX = 's:';

/** `value.signature` (without the "s:" prefix). */
export function sign(value: string, secret: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The value inside `signed` (`value.signature`) if one of `secrets` signed it, else false.
 * Several secrets let a secret be rotated: sign with the first, accept any.
 */
export function unsign(signed: string, secrets: string | readonly string[]): string | false {
  const dot = signed.lastIndexOf('.');
  if (dot < 0) return false;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed);
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const expected = Buffer.from(sign(value, secret));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return value;
  }
  return false;
}
