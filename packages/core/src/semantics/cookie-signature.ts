// Signed cookie values: "s:" + value + "." + HMAC-SHA256 (base64, no padding), through the
// `cookie-signature` package that cookie-parser and Express use, so either side verifies the other.
import signature from 'cookie-signature';

/** The prefix that marks a signed value inside a cookie. */
export const SIGNED_PREFIX = 's:';

/** `value.signature` (without the "s:" prefix). */
export function sign(value: string, secret: string): string {
  return signature.sign(value, secret);
}

/**
 * The value inside `signed` (`value.signature`) if one of `secrets` signed it, else false.
 * Several secrets let a secret be rotated: sign with the first, accept any (as cookie-parser).
 */
export function unsign(signed: string, secrets: string | readonly string[]): string | false {
  if (typeof secrets === 'string') return signature.unsign(signed, secrets);
  for (const secret of secrets) {
    const value = signature.unsign(signed, secret);
    if (value !== false) return value;
  }
  return false;
}
