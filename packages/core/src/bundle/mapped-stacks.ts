// Source-mapped stacks for a bundle made by `fcgi bundle`, at no cost when it starts: the bundle's
// map (packed by source-map.ts) is read and parsed the first time a stack with a frame in the bundle
// is formatted.
// Node's own support (process.setSourceMapsEnabled) reads and keeps the map as it compiles the
// file, and needs the file compiled twice: about 20 ms and 6 MB on every start of a hello.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { SourceMap } from 'node:module';

/** The line that carries a bundle's map, packed by source-map.ts (packInlineMap). */
export const PACKED_MAP_PREFIX = '//# fcgiSourceMap=gzip;base64,';
const AT = '\n    at ';

/**
 * Formats the stacks of every error with the frames in `file` (the running bundle) named by their
 * sources, as Node's --enable-source-maps would. Called by the bundle before the app loads, with
 * its own `require` (node:module, which brings Node's source-map code, is loaded only with the
 * map). The packed map (the file's last line, 50-200 KB) is read now, so a new version uploaded
 * over the file while this process runs does not change the map its stacks are read with.
 */
export function mapBundleStacks(file: string, require: NodeJS.Require): void {
  const packed = packedMapOf(file);
  if (packed === null) return;
  // undefined: not parsed yet; null: unusable.
  let map: SourceMap | null | undefined;
  const mapOf = (): SourceMap | null => {
    if (map === undefined) map = parseMap(packed, require);
    return map;
  };
  Error.prepareStackTrace = (error: unknown, trace: NodeJS.CallSite[]): string => {
    let out = firstLine(error);
    for (let i = 0; i < trace.length; i++) {
      const site = trace[i]!;
      let line: string | null = null;
      if (site.getFileName() === file) {
        const sm = mapOf();
        if (sm) line = mapped(sm, site, trace[i + 1]);
      }
      out += AT + (line ?? String(site));
    }
    return out;
  };
}

/** The base64 text of the packed map at the end of `file`, read from the end; null without one. */
function packedMapOf(file: string): string | null {
  let fd = -1;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    for (let want = 64 * 1024; ; want *= 2) {
      const n = Math.min(want, size);
      const tail = Buffer.allocUnsafe(n);
      readSync(fd, tail, 0, n, size - n);
      const text = tail.toString('latin1');
      const at = text.lastIndexOf(PACKED_MAP_PREFIX);
      if (at >= 0) {
        const end = text.indexOf('\n', at);
        return text.slice(at + PACKED_MAP_PREFIX.length, end < 0 ? text.length : end);
      }
      if (n === size) return null;
    }
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function parseMap(packed: string, require: NodeJS.Require): SourceMap | null {
  try {
    const { SourceMap: BundleMap } = require('node:module') as typeof import('node:module');
    const { gunzipSync } = require('node:zlib') as typeof import('node:zlib');
    return new BundleMap(JSON.parse(gunzipSync(Buffer.from(packed, 'base64')).toString('utf8')));
  } catch {
    return null;
  }
}

/** The stack's first line as V8 writes it; Node's own errors name their code there (`TypeError [ERR_X]: ...`). */
function firstLine(error: unknown): string {
  try {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && e.code.startsWith('ERR_')) {
      const own = String(error);
      if (own === `${String(e.name)} [${e.code}]: ${String(e.message)}`) return own;
    }
    return Error.prototype.toString.call(error);
  } catch {
    return '<error>';
  }
}

/** One frame named by its source (Node's form for a mapped frame), or null when the map has no entry. */
function mapped(sm: SourceMap, site: NodeJS.CallSite, caller: NodeJS.CallSite | undefined): string | null {
  const entry = sm.findEntry((site.getLineNumber() ?? 0) - 1, (site.getColumnNumber() ?? 0) - 1) as {
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
  };
  const { originalSource: source, originalLine: line, originalColumn: column } = entry;
  if (source === undefined || line === undefined || column === undefined) return null;
  const prefix = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
  const type = site.getTypeName();
  const own = `${type !== null && type !== 'global' ? `${type}.` : ''}${site.getFunctionName() || site.getMethodName() || '<anonymous>'}`;
  const name = originalName(sm, site, caller) ?? own;
  return `${prefix}${name} (${source}:${line + 1}:${column + 1})`;
}

/** The name the sources give the frame's function, where the map records one (a transpiler may rename). */
function originalName(sm: SourceMap, site: NodeJS.CallSite, caller: NodeJS.CallSite | undefined): string | undefined {
  const nameAt = (line: number | null, column: number | null): string | undefined =>
    line === null || column === null
      ? undefined
      : ((sm.findEntry(line - 1, column - 1) as { name?: string }).name ?? undefined);
  return (
    nameAt(site.getEnclosingLineNumber(), site.getEnclosingColumnNumber()) ||
    (caller && caller.getFileName() === site.getFileName()
      ? nameAt(caller.getLineNumber(), caller.getColumnNumber())
      : undefined) ||
    undefined
  );
}
