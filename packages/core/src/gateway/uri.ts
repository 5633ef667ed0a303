// The request target read the way nginx reads it: $request_uri, $uri (decoded, slashes merged,
// dot segments resolved) and $args; an absolute-form target gives the host.

export interface Target {
  /** $request_uri: the target as received, without scheme and authority in absolute form. */
  uri: string;
  /** The part before `?`, still percent-encoded. */
  rawPath: string;
  /** $args: after the first `?`, as received. */
  query: string;
  /** The authority of an absolute-form target (RFC 9112: it overrides Host). */
  authority?: string;
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)(.*)$/s;

export function splitTarget(url: string): Target {
  let uri = url;
  let authority: string | undefined;
  const m = ABSOLUTE.exec(url);
  if (m) {
    const at = m[1]!.lastIndexOf('@');
    authority = at < 0 ? m[1]! : m[1]!.slice(at + 1);
    uri = m[2]!.startsWith('/') ? m[2]! : '/' + m[2]!;
  }
  const q = uri.indexOf('?');
  return { uri, rawPath: q < 0 ? uri : uri.slice(0, q), query: q < 0 ? '' : uri.slice(q + 1), authority };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * nginx's $uri for a raw path: %XX decoded (a decoded `/` or `.` counts as one), runs of `/` merged,
 * `.` and `..` segments resolved. Null where nginx answers 400: `..` above the root, or %00.
 * Bytes that are not UTF-8 once decoded leave the path percent-encoded (params are text here).
 */
export function normalizePath(rawPath: string): string | null {
  // Node hands the target over as latin1, one char per byte: back to bytes, decode, read as UTF-8.
  const bytes = percentDecode(rawPath);
  if (bytes === null) return null;
  let path: string;
  try {
    path = utf8.decode(bytes);
  } catch {
    path = Buffer.from(rawPath, 'latin1').toString('utf8');
  }
  const out: string[] = [];
  const segments = path.split('/');
  let trailing = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    trailing = i === segments.length - 1 && (seg === '' || seg === '.' || seg === '..');
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return '/' + out.join('/') + (trailing && out.length > 0 ? '/' : '');
}

function percentDecode(s: string): Uint8Array | null {
  const bytes = Buffer.from(s, 'latin1');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]!) && isHex(bytes[i + 2]!)) {
      const v = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      if (v === 0) return null;
      out[n++] = v;
      i += 2;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}
