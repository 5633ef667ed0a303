// The bodies of res.json() and res.jsonp() as Express 5 writes them: JSON.stringify with the
// app's replacer and spaces, `<`, `>` and `&` escaped on request, and JSONP's callback wrapper.
// Held to Express's own res.jsonp() by json-body-vs-express.test.ts.

/** JSON text of `value` (undefined for what JSON cannot hold), as Express's stringify(). */
export function stringifyJson(
  value: unknown,
  replacer: unknown,
  spaces: unknown,
  escapeHtmlChars: unknown,
): string | undefined {
  const json: string | undefined =
    replacer || spaces ? JSON.stringify(value, replacer as never, spaces as never) : JSON.stringify(value);
  if (!escapeHtmlChars || typeof json !== 'string') return json;
  return json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** The JSONP callback a query names: the first value of a repeated name; null when none or empty. */
export function jsonpCallback(value: unknown): string | null {
  const name = Array.isArray(value) ? value[0] : value;
  return typeof name === 'string' && name.length !== 0 ? name : null;
}

/**
 * A JSONP script calling `callback` with `json`. Only `[`, `]`, word characters, `$` and `.` of
 * the name are kept (no script can be smuggled in it); U+2028 and U+2029, legal in JSON but line
 * ends in older JavaScript, are escaped; `/**\/` guards against content sniffing as Flash
 * (the Rosetta Flash attack), the typeof test against a page that has no such function.
 */
export function jsonpScript(callback: string, json: string | undefined): string {
  const name = callback.replace(/[^[\]\w$.]/g, '');
  const arg = json === undefined ? '' : json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `/**/ typeof ${name} === 'function' && ${name}(${arg});`;
}
