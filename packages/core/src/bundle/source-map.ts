// The bundle's inline source map with the sources named by their absolute paths on the machine
// that built it. esbuild names them relative to the output file, and Node resolves them against
// where the bundle runs: once uploaded elsewhere (public_html/sub/app.fcgi) a relative name points
// nowhere and a stack would show a made-up path. The build machine's path is what the developer
// can open.
import { isAbsolute, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PACKED_MAP_PREFIX } from './mapped-stacks.js';

const PREFIX = '//# sourceMappingURL=data:application/json;base64,';

/** `code` with its inline map's relative sources made absolute (against `outDir`); as is without one. */
export function withAbsoluteSources(code: string, outDir: string): string {
  const at = code.lastIndexOf(PREFIX);
  if (at < 0) return code;
  const end = code.indexOf('\n', at);
  const encoded = code.slice(at + PREFIX.length, end < 0 ? code.length : end);
  const map = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { sources?: string[] };
  // Virtual modules (a namespace such as `fcgi-builtin:`) keep their names.
  map.sources = (map.sources ?? []).map((s) => (isAbsolute(s) || /^[a-z][\w+.-]*:/i.test(s) ? s : resolve(outDir, s)));
  const rest = end < 0 ? '' : code.slice(end);
  return `${code.slice(0, at)}${PREFIX}${Buffer.from(JSON.stringify(map)).toString('base64')}${rest}`;
}

/**
 * `code` with its inline map gzipped under a name of our own (PACKED_MAP_PREFIX), for
 * splitPackedMap: the bundle then carries it as a string for mapped-stacks.ts. Node and V8 read a
 * `sourceMappingURL` comment as they compile a file and keep its text with the script (some 220 KB
 * for a hello); gzipped it is a quarter of the size.
 */
export function packInlineMap(code: string): string {
  const at = code.lastIndexOf(PREFIX);
  if (at < 0) return code;
  const end = code.indexOf('\n', at);
  const map = Buffer.from(code.slice(at + PREFIX.length, end < 0 ? code.length : end), 'base64');
  const rest = end < 0 ? '' : code.slice(end);
  return `${code.slice(0, at)}${PACKED_MAP_PREFIX}${gzipSync(map, { level: 9 }).toString('base64')}${rest}`;
}

/** `code` cut before its packed map line: the code, and the map's base64 (empty without one). */
export function splitPackedMap(code: string): { code: string; map: string } {
  const at = code.lastIndexOf(PACKED_MAP_PREFIX);
  if (at < 0) return { code, map: '' };
  const end = code.indexOf('\n', at);
  return { code: code.slice(0, at), map: code.slice(at + PACKED_MAP_PREFIX.length, end < 0 ? code.length : end) };
}
