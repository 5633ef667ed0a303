// The Vary header (RFC 9110 12.5.5): field names added once each, by the vary package (Express's).
import vary from 'vary';

/**
 * The Vary value after adding `field` (one name, a comma-separated list or an array) to
 * `current` (a header as set: undefined, a string, or repeated lines): each name once, compared
 * without case, spelled as first given; `*` swallows everything. Throws a TypeError for an empty
 * or invalid field name.
 */
export function appendVary(
  current: string | number | readonly string[] | undefined,
  field: string | readonly string[],
): string {
  const value = current === undefined ? '' : typeof current === 'object' ? current.join(', ') : String(current);
  return vary.append(value, field as string | string[]);
}
