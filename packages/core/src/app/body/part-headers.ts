// A multipart part's header block, and the Content-Disposition that names a form field.
import { bodyError } from './http-error.js';

const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `; name=value` pairs from `at` on (value a token or a quoted string); false when malformed. For
 * a part's Content-Disposition, where browsers send Windows paths unescaped: stricter than
 * content-type, and a backslash escapes only a quote or a backslash.
 */
function parseParams(s: string, at: number, out: Record<string, string>): boolean {
  let i = at;
  while (i < s.length) {
    while (i < s.length && (s[i] === ';' || s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    const eq = s.indexOf('=', i);
    if (eq < 0) return false;
    const name = s.slice(i, eq).trim().toLowerCase();
    if (!NAME.test(name)) return false;
    i = eq + 1;
    while (s[i] === ' ' || s[i] === '\t') i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i]!;
        // A backslash escapes only a quote or a backslash: browsers send Windows paths unescaped.
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return false;
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (i < s.length && s[i] !== ';') return false;
    } else {
      const end = s.indexOf(';', i);
      value = (end < 0 ? s.slice(i) : s.slice(i, end)).trim();
      i = end < 0 ? s.length : end;
    }
    if (!(name in out)) out[name] = value;
  }
  return true;
}

/**
 * Header lines (UTF-8: browsers send file names unescaped) into a null-prototype record with
 * lower-case names; folded lines are joined, a repeated header keeps its first value.
 */
export function parsePartHeaders(block: Buffer, maxPairs = 100): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  if (block.length === 0) return headers;
  const lines = block.toString('utf8').split('\r\n');
  let last: string | null = null;
  let pairs = 0;
  for (const line of lines) {
    if ((line[0] === ' ' || line[0] === '\t') && last !== null) {
      headers[last] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (!NAME.test(name))
      throw bodyError(
        400,
        `malformed multipart body: bad part header line ${JSON.stringify(line.slice(0, 80))}`,
        'entity.parse.failed',
      );
    if (++pairs > maxPairs)
      throw bodyError(413, `more than ${maxPairs} headers in a multipart part`, 'entity.too.large', {
        code: 'LIMIT_HEADER_SIZE',
      });
    if (name in headers) {
      last = null;
      continue;
    }
    headers[name] = line.slice(colon + 1).trim();
    last = name;
  }
  return headers;
}

export interface Disposition {
  /** 'form-data' for a form field; lower case. */
  type: string;
  /** The field name. */
  name: string | undefined;
  /** The file name, without any directory part; undefined for a plain field. */
  filename: string | undefined;
}

/** RFC 8187 ext-value: charset'lang'percent-encoded. */
function decodeExtValue(v: string): string | undefined {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (!m) return undefined;
  const charset = m[1]!.toLowerCase();
  const bytes = Buffer.from(
    m[2]!.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  if (charset === 'utf-8') return bytes.toString('utf8');
  if (charset === 'iso-8859-1') return bytes.toString('latin1');
  return undefined;
}

/** Browsers send a base name; other clients may send a path, which is never ours to use ('.' and '..' become ''). */
function baseName(name: string): string {
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  const base = cut < 0 ? name : name.slice(cut + 1);
  return base === '.' || base === '..' ? '' : base;
}

/**
 * Reads `form-data; name="f"; filename="a.txt"` (filename* preferred); null when malformed. An
 * empty file name (a file input left empty) means no file, as busboy reads it.
 */
export function parseDisposition(value: string | undefined): Disposition | null {
  if (!value) return null;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = Object.create(null);
  if (semi >= 0 && !parseParams(value, semi, params)) return null;
  const star = params['filename*'] !== undefined ? decodeExtValue(params['filename*']) : undefined;
  const raw = star || params.filename;
  return { type, name: params.name, filename: raw ? baseName(raw) : undefined };
}
