// Which precompressed variant a client takes, from Accept-Encoding (RFC 9110 12.5.3): codings
// with q > 0, best q first, br before gzip on a tie. `*` stands for any coding not named;
// `x-gzip` is gzip. Identity, when named, beats a coding it ranks higher than.

const CODINGS = ['br', 'gzip'] as const;
export type Coding = (typeof CODINGS)[number];

function parse(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const element of header.split(',')) {
    const [token, ...params] = element.split(';');
    let name = token!.trim().toLowerCase();
    if (!name) continue;
    if (name === 'x-gzip') name = 'gzip';
    let quality = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) quality = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    // The same coding twice: keep the better.
    q.set(name, Math.max(q.get(name) ?? 0, quality));
  }
  return q;
}

/** The codings to try, best first; empty when the client takes none of ours. */
export function acceptedCodings(header: string | undefined): Coding[] {
  if (!header) return [];
  const q = parse(header);
  const of = (c: string): number => q.get(c) ?? (q.has('*') ? q.get('*')! : 0);
  // Identity not named is acceptable but has no preference of its own (0 here).
  const identity = q.get('identity') ?? 0;
  return CODINGS
    .filter((c) => of(c) > 0 && of(c) >= identity)
    .sort((a, b) => of(b) - of(a)); // stable: br stays before gzip on a tie
}
