// Which request headers become HTTP_* params, and under what name: one rule for the gateway and inject().

// nginx's defaults (ignore_invalid_headers on, underscores_in_headers off) pass only these names:
// without the rule `X_User: admin` would arrive as HTTP_X_USER, the same as `X-User`.
const HEADER_NAME = /^[A-Za-z0-9-]+$/;

/**
 * The param name for a request header (`X-Forwarded-For` -> HTTP_X_FORWARDED_FOR), or null for a
 * header that is not passed: a name with anything but letters, digits and "-", and `Proxy`
 * (httpoxy, CVE-2016-5385: as HTTP_PROXY it would pass for the proxy setting of a CGI or PHP app's
 * HTTP client; Apache since 2.4.25 and Go's net/http/cgi drop it too).
 */
export function headerParamName(name: string): string | null {
  if (!HEADER_NAME.test(name) || (name.length === 5 && name.toLowerCase() === 'proxy')) return null;
  return 'HTTP_' + name.toUpperCase().replaceAll('-', '_');
}
