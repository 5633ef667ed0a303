// The request side of the body parsers: a header of the request, whether it has a body, its
// charset, and the `type` option (which requests a parser handles). The grammar itself (content-type,
// type-is) is in semantics/media-type.ts.
import { parseContentLength } from '../../semantics/content-length.js';
import { hasBody as headersHaveBody, mimeMatch, normalizeType, parseMediaType } from '../../semantics/index.js';

// The multipart reader takes the parser from here, with the other request helpers.
export { parseMediaType };

/** The shape of request the parsers need: Node's IncomingMessage and FcgiRequest both fit. */
export interface HeaderBag {
  headers: Record<string, string | string[] | undefined>;
}

export function header(req: HeaderBag, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The charset parameter of the request's Content-Type, lower case; undefined when absent. */
export function charsetOf(req: HeaderBag): string | undefined {
  const cs = parseMediaType(header(req, 'content-type'))?.params.charset;
  return cs ? cs.toLowerCase() : undefined;
}

/**
 * Whether the request has a body, as type-is decides for body-parser: a Transfer-Encoding or a
 * numeric Content-Length. Web servers send CONTENT_LENGTH with every body they buffer (nginx sends
 * an empty one for none, which the request headers leave out).
 */
export function hasBody(req: HeaderBag): boolean {
  return headersHaveBody(req.headers);
}

/** The Content-Length as a number; undefined when absent or malformed (body-parser reads the body then). */
export function declaredLength(req: HeaderBag): number | undefined {
  return parseContentLength(header(req, 'content-length')) ?? undefined;
}

/** What the `type` option may be: media types, extensions ('json'), wildcards, or a function. */
export type TypeOption<Req = any> = string | readonly string[] | ((req: Req) => boolean);

/** Turns a `type` option entry into a media type pattern ('json' -> application/json), as req.is() does. */
function normalizeSpec(spec: string): string | null {
  return normalizeType(spec.trim().toLowerCase()) || null;
}

/** A predicate for the `type` option: which requests a parser handles. */
export function typeMatcher<Req extends HeaderBag>(option: TypeOption<Req>): (req: Req) => boolean {
  if (typeof option === 'function') return option;
  const patterns = (typeof option === 'string' ? [option] : [...option])
    .map(normalizeSpec)
    .filter((p): p is string => p !== null);
  return (req) => {
    const mt = parseMediaType(header(req, 'content-type'));
    return mt !== null && patterns.some((p) => mimeMatch(p, mt.type));
  };
}
