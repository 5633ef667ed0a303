// Content negotiation on Accept, Accept-Charset, Accept-Encoding and Accept-Language, ranking as the
// negotiator package (1.1, under Express 5's accepts 2) does: quality, then specificity, then the
// header's order, then the caller's; with the answers accepts gives to req.accepts*().
import { lookup } from 'mime-types';

/** One entry of an Accept-* header. */
interface Spec {
  /** The full value (type/subtype, charset, encoding or language), as the client cased it. */
  full: string;
  q: number;
  /** Position in the header. */
  i: number;
}

interface MediaSpec extends Spec {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

interface LanguageSpec extends Spec {
  prefix: string;
}

/** How well one offered value matches the header: its best entry's q, specificity and position. */
interface Priority {
  /** Index of the offered value. */
  i: number;
  /** Index of the header entry that matched. */
  o: number;
  q: number;
  /** Specificity: exact beats prefix beats wildcard. */
  s: number;
}

/** Returns how `spec` matches offered value number `index`, or null when it does not. */
type Specify<S> = (offered: string, spec: S, index: number) => Priority | null;

function bestPriority<S>(offered: string, specs: readonly S[], index: number, specify: Specify<S>): Priority {
  let best: Priority = { i: index, o: -1, q: 0, s: 0 };
  for (const spec of specs) {
    const p = specify(offered, spec, index);
    if (p && (best.s - p.s || best.q - p.q || best.o - p.o) < 0) best = p;
  }
  return best;
}

function compare(a: Priority, b: Priority): number {
  return b.q - a.q || b.s - a.s || a.o - b.o || a.i - b.i || 0;
}

/** Either the header's own entries by preference, or the offered values it accepts, best first. */
function rank<S extends Spec>(specs: S[], offered: readonly string[] | undefined, specify: Specify<S>): string[] {
  if (!offered) {
    return specs.filter((s) => s.q > 0).sort((a, b) => b.q - a.q || a.i - b.i).map((s) => s.full);
  }
  const priorities = offered.map((value, index) => bestPriority(value, specs, index, specify));
  return priorities.filter((p) => p.q > 0).sort(compare).map((p) => offered[p.i]!);
}

// -- Reading the headers --

/** One element of a list header: its value, its parameters, and where it ended. */
interface Element {
  value: string;
  /** Lower-case names; the first occurrence of a name wins. */
  params: Record<string, string>;
  end: number;
}

const isOws = (c: string | undefined): boolean => c === ' ' || c === '\t';

function trimOwsEnd(s: string, from: number, to: number): string {
  while (to > from && isOws(s[to - 1])) to--;
  return s.slice(from, to);
}

/**
 * Reads `value *( ";" name "=" (token / quoted-string) )` from `start`, stopping at a comma when
 * `inList` (commas inside quoted strings do not count). Lenient as negotiator 1.1 (content-type 2)
 * is: parameters without '=' are skipped, anything else is kept as written.
 */
function readElement(s: string, start: number, inList: boolean): Element {
  const len = s.length;
  const stops = (c: string | undefined): boolean => c === ';' || (inList && c === ',');
  let i = start;
  while (isOws(s[i])) i++;
  const from = i;
  while (i < len && !stops(s[i])) i++;
  const value = trimOwsEnd(s, from, i);
  const params: Record<string, string> = Object.create(null);
  param: while (i < len && !(inList && s[i] === ',')) {
    i++; // past ';'
    while (isOws(s[i])) i++;
    const keyStart = i;
    for (; i < len; i++) {
      if (inList && s[i] === ',') break param;
      if (s[i] === ';') continue param;
      if (s[i] !== '=') continue;
      const key = trimOwsEnd(s, keyStart, i).toLowerCase();
      i++;
      while (isOws(s[i])) i++;
      if (s[i] === '"') {
        let text = '';
        for (i++; i < len;) {
          const c = s[i++]!;
          if (c === '"') {
            while (i < len && !stops(s[i])) i++;
            if (params[key] === undefined) params[key] = text;
            break;
          }
          text += c === '\\' && i < len ? s[i++] : c;
        }
        continue param;
      }
      const valueStart = i;
      while (i < len && !stops(s[i])) i++;
      if (params[key] === undefined) params[key] = trimOwsEnd(s, valueStart, i);
      continue param;
    }
  }
  return { value, params, end: i };
}

/** The elements of a comma-separated header; empty elements keep their place (and index). */
function readList(header: string): Element[] {
  const out: Element[] = [];
  for (let at = 0; at < header.length;) {
    const e = readElement(header, at, true);
    out.push(e);
    at = e.end + 1;
  }
  return out;
}

function qOf(params: Record<string, string>): number {
  return params.q ? parseFloat(params.q) : 1;
}

// -- Media types --

function mediaSpec(e: Element, i: number): MediaSpec | null {
  const slash = e.value.indexOf('/');
  if (slash < 0) return null;
  const { q: _q, ...rest } = e.params;
  const params: Record<string, string> = Object.assign(Object.create(null), rest);
  return { type: e.value.slice(0, slash), subtype: e.value.slice(slash + 1), params, q: qOf(e.params), i, full: e.value };
}

const specifyMedia: Specify<MediaSpec> = (offered, spec, index) => {
  const p = mediaSpec(readElement(offered, 0, false), 0);
  if (!p) return null;
  let s = 0;
  if (spec.type.toLowerCase() === p.type.toLowerCase()) s |= 4;
  else if (spec.type !== '*') return null;
  if (spec.subtype.toLowerCase() === p.subtype.toLowerCase()) s |= 2;
  else if (spec.subtype !== '*') return null;
  const keys = Object.keys(spec.params);
  if (keys.length > 0) {
    const all = keys.every((k) => spec.params[k] === '*'
      || (spec.params[k] ?? '').toLowerCase() === (p.params[k] ?? '').toLowerCase());
    if (!all) return null;
    s |= 1;
  }
  return { i: index, o: spec.i, q: spec.q, s };
};

/** Media types from Accept (absent means any), best first; or those of `offered` it accepts. */
export function preferredMediaTypes(accept: string | undefined, offered?: readonly string[]): string[] {
  const specs = readList(accept === undefined ? '*/*' : accept)
    .map(mediaSpec)
    .filter((s): s is MediaSpec => s !== null);
  return rank(specs, offered, specifyMedia);
}

// -- Charsets and encodings: a token and parameters --

function tokenSpecs(header: string): Spec[] {
  return readList(header)
    .map((e, i) => (e.value ? { full: e.value, q: qOf(e.params), i } : null))
    .filter((s): s is Spec => s !== null);
}

const specifyToken: Specify<Spec> = (offered, spec, index) => {
  let s = 0;
  if (spec.full.toLowerCase() === offered.toLowerCase()) s |= 1;
  else if (spec.full !== '*') return null;
  return { i: index, o: spec.i, q: spec.q, s };
};

/** Charsets from Accept-Charset (absent means any), best first; or those of `offered` it accepts. */
export function preferredCharsets(accept: string | undefined, offered?: readonly string[]): string[] {
  return rank(tokenSpecs(accept === undefined ? '*' : accept), offered, specifyToken);
}

/**
 * Encodings from Accept-Encoding, best first; or those of `offered` it accepts. `identity` is
 * acceptable unless the header names it (or `*`) with q=0: when it is not named it joins with the
 * lowest quality the header gives, after every entry.
 */
export function preferredEncodings(accept: string | undefined, offered?: readonly string[]): string[] {
  const list = readList(accept ?? '');
  const specs = list
    .map((e, i) => (e.value ? { full: e.value, q: qOf(e.params), i } : null))
    .filter((s): s is Spec => s !== null);
  if (!specs.some((s) => specifyToken('identity', s, 0) !== null)) {
    // q=0 entries do not lower it (negotiator takes `q || 1`).
    const minQ = specs.reduce((min, s) => Math.min(min, s.q || 1), 1);
    specs.push({ full: 'identity', q: minQ, i: list.length });
  }
  return rank(specs, offered, specifyToken);
}

// -- Languages --

function languageSpec(e: Element, i: number): LanguageSpec | null {
  if (!e.value) return null;
  const hyphen = e.value.indexOf('-');
  return { prefix: hyphen < 0 ? e.value : e.value.slice(0, hyphen), full: e.value, q: qOf(e.params), i };
}

const specifyLanguage: Specify<LanguageSpec> = (offered, spec, index) => {
  const p = languageSpec(readElement(offered, 0, false), 0);
  if (!p) return null;
  let s = 0;
  const full = p.full.toLowerCase();
  if (spec.full.toLowerCase() === full) s |= 4; // en-US for en-US
  else if (spec.prefix.toLowerCase() === full) s |= 2; // en-US in the header, en offered
  else if (spec.full.toLowerCase() === p.prefix.toLowerCase()) s |= 1; // en in the header, en-US offered
  else if (spec.full !== '*') return null;
  return { i: index, o: spec.i, q: spec.q, s };
};

/** Languages from Accept-Language (absent means any), best first; or those of `offered` it accepts. */
export function preferredLanguages(accept: string | undefined, offered?: readonly string[]): string[] {
  const specs = readList(accept === undefined ? '*' : accept)
    .map(languageSpec)
    .filter((s): s is LanguageSpec => s !== null);
  return rank(specs, offered, specifyLanguage);
}

// -- The accepts package's answers --

/** Arguments as Express takes them: a list of values, or one array. */
export type Offered = readonly (string | readonly string[])[];

function flatten(args: Offered): string[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...args[0]] : (args as string[]);
}

/**
 * With no types, every type the client accepts, best first. Otherwise the best of `types`
 * (extensions such as 'json' or full types, returned as given), false if none is acceptable;
 * with no Accept header, the first type.
 */
export function acceptsTypes(accept: string | undefined, args: Offered): string | string[] | false {
  const types = flatten(args);
  if (types.length === 0) return preferredMediaTypes(accept);
  if (!accept) return types[0]!;
  const mimes = types.map((t) => (t.includes('/') ? t : lookup(t)));
  const valid = mimes.filter((m): m is string => typeof m === 'string');
  const best = preferredMediaTypes(accept, valid)[0];
  return best === undefined ? false : types[mimes.indexOf(best)]!;
}

function firstOrAll(preferred: (accept: string | undefined, offered?: readonly string[]) => string[]) {
  return (accept: string | undefined, args: Offered): string | string[] | false => {
    const offered = flatten(args);
    if (offered.length === 0) return preferred(accept);
    return preferred(accept, offered)[0] ?? false;
  };
}

export const acceptsCharsets = firstOrAll(preferredCharsets);
export const acceptsEncodings = firstOrAll(preferredEncodings);
export const acceptsLanguages = firstOrAll(preferredLanguages);
