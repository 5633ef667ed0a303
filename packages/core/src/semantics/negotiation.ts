// Content negotiation on Accept, Accept-Charset, Accept-Encoding and Accept-Language: the rankings
// of the negotiator package and the answers of accepts (Express 5's req.accepts*()), plus which
// precompressed variant a file sender may pick.
import Negotiator from 'negotiator';
import lazy from './lazy.cjs';

/** Arguments as Express takes them: a list of values, or one array. */
export type Offered = readonly (string | readonly string[])[];

type Preferred = (header: string | undefined, offered?: readonly string[]) => string[];

/** negotiator's ranking for one header: `offered` given, those it accepts best first; else the header's own entries. */
function ranking(name: 'accept' | 'accept-charset' | 'accept-encoding' | 'accept-language'): Preferred {
  return (header, offered) => {
    const n = new Negotiator({ headers: { [name]: header } });
    const list = offered as string[] | undefined;
    switch (name) {
      case 'accept':
        return n.mediaTypes(list);
      case 'accept-charset':
        return n.charsets(list);
      case 'accept-encoding':
        return n.encodings(list);
      default:
        return n.languages(list);
    }
  };
}

/** Media types from Accept (absent means any), best first; or those of `offered` it accepts. */
export const preferredMediaTypes: Preferred = ranking('accept');
/** Charsets from Accept-Charset (absent means any), best first; or those of `offered` it accepts. */
export const preferredCharsets: Preferred = ranking('accept-charset');
/**
 * Encodings from Accept-Encoding, best first; or those of `offered` it accepts. `identity` is
 * acceptable unless the header refuses it (by name or `*` with q=0).
 */
export const preferredEncodings: Preferred = ranking('accept-encoding');
/** Languages from Accept-Language (absent means any), best first; or those of `offered` it accepts. */
export const preferredLanguages: Preferred = ranking('accept-language');

type Answer = string | string[] | false;
type Method = 'types' | 'charsets' | 'encodings' | 'languages';

/** The accepts package's answer, with Express's flattening of the arguments. */
function answer(method: Method, header: string | undefined, name: string, args: Offered): Answer {
  const a = lazy.accepts()({ headers: { [name]: header } } as never) as unknown as Record<
    Method,
    (...v: unknown[]) => Answer
  >;
  return a[method](...args);
}

/**
 * With no types, every type the client accepts, best first. Otherwise the best of `types`
 * (extensions such as 'json' or full types, returned as given), false if none is acceptable;
 * with no Accept header, the first type.
 */
export function acceptsTypes(accept: string | undefined, args: Offered): Answer {
  return answer('types', accept, 'accept', args);
}

/** With no charsets, all the client accepts, best first; else the best of them or false. */
export function acceptsCharsets(accept: string | undefined, args: Offered): Answer {
  return answer('charsets', accept, 'accept-charset', args);
}

/** With no encodings, all the client accepts, best first; else the best of them or false. */
export function acceptsEncodings(accept: string | undefined, args: Offered): Answer {
  return answer('encodings', accept, 'accept-encoding', args);
}

/** With no languages, all the client accepts, best first; else the best of them or false. */
export function acceptsLanguages(accept: string | undefined, args: Offered): Answer {
  return answer('languages', accept, 'accept-language', args);
}

/** The precompressed variants a file sender knows, in its order of preference on a tie. */
export type Coding = 'br' | 'gzip';

// `x-gzip` is gzip (RFC 9110 8.4.1.3). Identity comes last, so on a tie a coding wins over it.
const CODINGS = ['br', 'gzip', 'x-gzip', 'identity'];
const PREFERRED = { preferred: ['br', 'gzip', 'x-gzip'] };

/**
 * Which precompressed variants a client takes, from Accept-Encoding (RFC 9110 12.5.3), best
 * first: codings with q > 0 that rank at least as high as identity, br before gzip on a tie;
 * `*` stands for any coding not named. Empty without a header: the plain file is then the answer.
 */
export function acceptedCodings(header: string | undefined): Coding[] {
  if (!header) return [];
  const ranked = (
    new Negotiator({ headers: { 'accept-encoding': header } }) as unknown as {
      encodings(available: string[], options: { preferred: string[] }): string[];
    }
  ).encodings(CODINGS, PREFERRED);
  const out: Coding[] = [];
  for (const c of ranked) {
    if (c === 'identity') break;
    const coding: Coding = c === 'br' ? 'br' : 'gzip';
    if (!out.includes(coding)) out.push(coding);
  }
  return out;
}
