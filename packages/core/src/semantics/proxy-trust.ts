// Which proxies to believe: the 'trust proxy' setting compiled to a test as Express compiles it,
// and the walk along X-Forwarded-For that finds the client, both through the `proxy-addr` package
// (addresses, CIDR ranges, netmasks and the names loopback, linklocal and uniquelocal).
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** Is the address at hop `i` (0 = the peer the web server saw) a proxy to believe? */
export type TrustFn = (addr: string, i: number) => boolean;

function trustNone(): boolean {
  return false;
}

function trustAll(): boolean {
  return true;
}

/**
 * The 'trust proxy' setting as a test, as Express compiles it: a function is used as is; true
 * trusts every hop; a number trusts that many hops; a string is a comma-separated list and an
 * array a list for proxy-addr (which throws a TypeError on an entry it cannot read); false,
 * undefined, a blank string and the rest trust nothing (Express would throw on a blank string).
 */
export function compileTrust(value: unknown): TrustFn {
  if (typeof value === 'function') return value as TrustFn;
  if (value === true) return trustAll;
  if (typeof value === 'number') return (_addr, i) => i < value;
  if (typeof value === 'string') {
    return value.trim() === '' ? trustNone : proxyaddr.compile(value.split(',').map((s) => s.trim()));
  }
  if (Array.isArray(value)) return value.length === 0 ? trustNone : proxyaddr.compile(value as string[]);
  return trustNone;
}

// The setting rarely changes: compile each value once.
const compiledObjects = new WeakMap<object, TrustFn>();
const compiledValues = new Map<unknown, TrustFn>();
const MAX_CACHED = 64;

/** compileTrust, remembered per setting value. */
export function trustFor(value: unknown): TrustFn {
  if (typeof value === 'function' || (typeof value === 'object' && value !== null)) {
    let fn = compiledObjects.get(value);
    if (!fn) compiledObjects.set(value, (fn = compileTrust(value)));
    return fn;
  }
  let fn = compiledValues.get(value);
  if (!fn) {
    fn = compileTrust(value);
    if (compiledValues.size < MAX_CACHED) compiledValues.set(value, fn);
  }
  return fn;
}

/**
 * The peer and the X-Forwarded-For addresses, nearest first, cut after the first hop that is not
 * trusted (proxy-addr's all): the last entry is the client.
 */
export function forwardedChain(remoteAddr: string, forwardedFor: string | undefined, trust: TrustFn): string[] {
  // proxy-addr reads the peer and the header from a request; these are the only fields it uses.
  const req = { socket: { remoteAddress: remoteAddr }, headers: { 'x-forwarded-for': forwardedFor } };
  return proxyaddr.all(req as unknown as IncomingMessage, trust);
}
