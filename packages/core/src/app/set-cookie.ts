// Set-Cookie lines as Express's res.cookie() writes them: objects as "j:" + JSON, signed values as
// "s:" + value.signature, maxAge in MILLISECONDS (Max-Age in seconds plus a matching Expires),
// Path=/ unless given, the value percent-encoded with encodeURIComponent.
import { stringifySetCookie, type SetCookie } from 'cookie';
import { SIGNED_PREFIX, sign } from '../semantics/index.js';

export interface CookieOptions {
  /** Lifetime in milliseconds (as Express); sets Max-Age (seconds, rounded down) and Expires. */
  maxAge?: number;
  expires?: Date;
  domain?: string;
  /** Default '/'. */
  path?: string;
  httpOnly?: boolean;
  secure?: boolean;
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
  sameSite?: boolean | 'lax' | 'strict' | 'none';
  /** Sign the value with the app's 'cookie secret' (cookie-parser reads it back as a signed cookie). */
  signed?: boolean;
  /** Encodes the value; default encodeURIComponent (as Express 5). */
  encode?: (value: string) => string;
}

/**
 * One Set-Cookie value. `secret` is needed when `options.signed`; an object value (null included,
 * as Express) is stored as "j:" + JSON so cookie-parser gives the object back.
 */
export function serializeCookie(name: string, value: unknown, options: CookieOptions = {}, secret?: string): string {
  let val = typeof value === 'object' ? 'j:' + JSON.stringify(value) : String(value);
  if (options.signed) {
    if (!secret) throw new Error("signed cookies need a secret: app.set('cookie secret', ...)");
    val = SIGNED_PREFIX + sign(val, secret);
  }
  const cookie: SetCookie = { name, value: val };
  let expires = options.expires;
  if (options.maxAge != null) {
    const ms = Number(options.maxAge);
    if (Number.isNaN(ms)) throw new TypeError(`cookie maxAge is invalid: ${String(options.maxAge)}`);
    expires = new Date(Date.now() + ms);
    cookie.maxAge = Math.floor(ms / 1000);
  }
  if (options.domain !== undefined) cookie.domain = options.domain;
  cookie.path = options.path ?? '/';
  if (expires !== undefined) cookie.expires = expires;
  if (options.httpOnly) cookie.httpOnly = true;
  if (options.secure) cookie.secure = true;
  if (options.partitioned) cookie.partitioned = true;
  if (options.priority !== undefined) cookie.priority = options.priority;
  if (options.sameSite !== undefined) cookie.sameSite = options.sameSite;
  return stringifySetCookie(cookie, { encode: options.encode ?? encodeURIComponent });
}

/** The secret signed cookies use: the first of the app's 'cookie secret' (string or list). */
export function firstSecret(setting: unknown): string | undefined {
  const first = Array.isArray(setting) ? setting[0] : setting;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
