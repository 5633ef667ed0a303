// Which proxies to believe: the 'trust proxy' setting compiled to a test, and the walk along
// X-Forwarded-For that finds the client, with the semantics of Express's compileTrust and the
// proxy-addr 2.0.8 and forwarded packages, held to proxy-addr by proxy-trust-vs-proxy-addr.test.ts.
import { isIPv4, isIPv6 } from 'node:net';

/** Is the address at hop `i` (0 = the peer the web server saw) a proxy to believe? */
export type TrustFn = (addr: string, i: number) => boolean;

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
interface Ip {
  v6: boolean;
  bytes: Uint8Array;
}

/** A trusted range: an address and how many leading bits must match. */
interface Subnet {
  ip: Ip;
  bits: number;
}

/** The names proxy-addr knows, with the ranges they stand for. */
const NAMED_RANGES: Record<string, readonly string[]> = {
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  loopback: ['127.0.0.1/8', '::1/128'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function parseV4(s: string): Uint8Array | null {
  if (!isIPv4(s)) return null;
  return Uint8Array.from(s.split('.'), Number);
}

function parseV6(s: string): Uint8Array | null {
  const zone = s.indexOf('%'); // fe80::1%eth0: the zone does not take part in matching
  if (zone >= 0) s = s.slice(0, zone);
  if (!isIPv6(s)) return null;
  const last = s.lastIndexOf(':');
  const tail = s.slice(last + 1);
  if (tail.includes('.')) {
    // ::ffff:1.2.3.4 — rewrite the dotted tail as two groups.
    const v4 = parseV4(tail)!;
    s = `${s.slice(0, last + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...new Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

/** An IPv4 or IPv6 address in its usual notation, else null. */
export function parseIp(s: string): Ip | null {
  const v4 = parseV4(s);
  if (v4) return { v6: false, bytes: v4 };
  const v6 = parseV6(s);
  return v6 ? { v6: true, bytes: v6 } : null;
}

/** ::ffff:a.b.c.d */
function isV4Mapped(ip: Ip): boolean {
  const b = ip.bytes;
  if (!ip.v6 || b[10] !== 0xff || b[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return true;
}

function toV4(ip: Ip): Ip {
  return { v6: false, bytes: ip.bytes.slice(12) };
}

function toMapped(ip: Ip): Ip {
  const bytes = new Uint8Array(16);
  bytes[10] = bytes[11] = 0xff;
  bytes.set(ip.bytes, 12);
  return { v6: true, bytes };
}

function prefixMatches(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (a[i] !== b[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a[i]! & mask) === (b[i]! & mask);
}

/** Leading one bits of a contiguous IPv4 netmask (255.255.0.0 -> 16), else null. */
function maskBits(mask: Uint8Array): number | null {
  let bits = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      if (one && ended) return null;
      if (one) bits++;
      else ended = true;
    }
  }
  return bits;
}

/** '10.0.0.0/8', '10.0.0.0/255.0.0.0', '::1', '::ffff:127.0.0.1' (kept as IPv4 when no range). */
function parseSubnet(note: string): Subnet {
  const slash = note.lastIndexOf('/');
  const addr = slash < 0 ? note : note.slice(0, slash);
  let ip = parseIp(addr);
  if (!ip) throw new TypeError(`invalid IP address: ${addr}`);
  if (slash < 0 && isV4Mapped(ip)) ip = toV4(ip);
  const max = ip.v6 ? 128 : 32;
  const range = slash < 0 ? null : note.slice(slash + 1);
  let bits: number | null;
  if (range === null) bits = max;
  else if (/^[0-9]+$/.test(range)) bits = parseInt(range, 10);
  else if (!ip.v6 && parseV4(range)) bits = maskBits(parseV4(range)!);
  else bits = null;
  // As proxy-addr: a /0 range (or a malformed one) is refused rather than trusting everything.
  if (bits === null || bits <= 0 || bits > max) throw new TypeError(`invalid range on address: ${note}`);
  return { ip, bits };
}

/** Does `subnet` hold `ip` (an IPv4-mapped address already turned into IPv4)? As proxy-addr 2.0.8. */
function trustsSubnet(subnet: Subnet, ip: Ip): boolean {
  if (ip.v6 !== subnet.ip.v6) {
    // IPv4 meets an IPv6 range only through a mapped range that covers the ::ffff: marker.
    if (!subnet.ip.v6 || subnet.bits < 96 || !isV4Mapped(subnet.ip)) return false;
    ip = toMapped(ip);
  } else if (ip.v6 && isV4Mapped(subnet.ip)) {
    return false;
  }
  return prefixMatches(ip.bytes, subnet.ip.bytes, subnet.bits);
}

/**
 * A test from a list of addresses, CIDR ranges and the names 'loopback', 'linklocal' and
 * 'uniquelocal' (proxy-addr's compile). Throws a TypeError on anything it cannot read.
 */
export function compileAddressList(list: readonly string[]): TrustFn {
  const subnets: Subnet[] = [];
  for (const entry of list) {
    const named = Object.hasOwn(NAMED_RANGES, entry) ? NAMED_RANGES[entry]! : [entry];
    for (const note of named) subnets.push(parseSubnet(note));
  }
  if (subnets.length === 0) return trustNone;
  return (addr) => {
    let ip = parseIp(addr);
    if (ip === null) return false;
    // ::ffff:10.0.0.1 is 10.0.0.1, so a mapped address cannot slip past an IPv4-only list.
    if (isV4Mapped(ip)) ip = toV4(ip);
    const candidate = ip;
    return subnets.some((s) => trustsSubnet(s, candidate));
  };
}

function trustNone(): boolean {
  return false;
}

function trustAll(): boolean {
  return true;
}

/**
 * The 'trust proxy' setting as a test, as Express compiles it: a function is used as is; true
 * trusts every hop; a number trusts that many hops; a string is a comma-separated list; an array
 * a list (see compileAddressList); false, undefined, '' and the rest trust nothing.
 */
export function compileTrust(value: unknown): TrustFn {
  if (typeof value === 'function') return value as TrustFn;
  if (value === true) return trustAll;
  if (typeof value === 'number') return (_addr, i) => i < value;
  if (typeof value === 'string') {
    // A blank string means none (Express would throw on it); anything else must parse.
    return value.trim() === '' ? trustNone : compileAddressList(value.split(',').map((s) => s.trim()));
  }
  if (Array.isArray(value)) return compileAddressList(value as string[]);
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
 * X-Forwarded-For's entries, nearest first (the forwarded package): split on commas from the
 * right, spaces around entries dropped, empty entries skipped.
 */
export function parseForwardedFor(header: string): string[] {
  const list: string[] = [];
  let end = header.length;
  let start = header.length;
  for (let i = header.length - 1; i >= 0; i--) {
    const c = header.charCodeAt(i);
    if (c === 0x20) {
      if (start === end) start = end = i;
    } else if (c === 0x2c) {
      if (start !== end) list.push(header.slice(start, end));
      start = end = i;
    } else {
      start = i;
    }
  }
  if (start !== end) list.push(header.slice(start, end));
  return list;
}

/**
 * The peer and the forwarded addresses, nearest first, cut after the first hop that is not
 * trusted (proxy-addr's all): the last entry is the client.
 */
export function forwardedChain(remoteAddr: string, forwardedFor: string | undefined, trust: TrustFn): string[] {
  const addrs = [remoteAddr];
  if (forwardedFor) addrs.push(...parseForwardedFor(forwardedFor));
  for (let i = 0; i < addrs.length - 1; i++) {
    if (!trust(addrs[i]!, i)) {
      addrs.length = i + 1;
      break;
    }
  }
  return addrs;
}
