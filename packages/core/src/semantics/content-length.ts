// The request body's declared length (Content-Length, CGI's CONTENT_LENGTH): one reading for every layer.

// RFC 9110, 8.6: Content-Length = 1*DIGIT. Beyond 2^53 a number is not exact: no body is that long.
const DIGITS = /^\d{1,15}$/;

/**
 * The length a Content-Length or CONTENT_LENGTH value declares: undefined when absent (undefined
 * or '', as nginx sends it for no body), null when malformed (`1e3`, `abc`, `-1`, ` 5`, `0x10`,
 * `5, 5`: what `Number()` would read differently or not at all; a web server never sends these).
 */
export function parseContentLength(value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  return DIGITS.test(value) ? Number(value) : null;
}
