// Source-mapped stacks for a bundle made by `fcgi bundle`, at no cost when it starts: the map the
// bundle carries (packed by source-map.ts) is parsed the first time a stack with a frame in the
// bundle's code is formatted.
// Node's own support (process.setSourceMapsEnabled) reads and keeps the map as it compiles the
// file, and needs the file compiled twice: about 20 ms and 6 MB on every start of a hello.
import type { SourceMap } from 'node:module';

/** How source-map.ts marks the packed map in esbuild's output, before `fcgi bundle` hands it to the code. */
export const PACKED_MAP_PREFIX = '//# fcgiSourceMap=gzip;base64,';
const AT = '\n    at ';

/**
 * Formats the stacks of every error with the frames of the bundle's code in `file` (the running
 * bundle) named by their sources, as Node's --enable-source-maps would. Called by the bundle's code
 * before the app loads, with its own `require` (node:module, which brings Node's source-map code,
 * is loaded only with the map), the packed map it carries (gzip, base64) and where its lines start
 * (the loader's frames, above them in the same file, are left as they are).
 */
export function mapBundleStacks(file: string, require: NodeJS.Require, packed: string, lineOffset: number): void {
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
      if (site.getFileName() === file && (site.getLineNumber() ?? 0) > lineOffset) {
        const sm = mapOf();
        if (sm) line = mapped(sm, site, trace[i + 1], lineOffset);
      }
      out += AT + (line ?? String(site));
    }
    return out;
  };
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
function mapped(
  sm: SourceMap,
  site: NodeJS.CallSite,
  caller: NodeJS.CallSite | undefined,
  offset: number,
): string | null {
  const entry = sm.findEntry((site.getLineNumber() ?? 0) - 1 - offset, (site.getColumnNumber() ?? 0) - 1) as {
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
  };
  const { originalSource: source, originalLine: line, originalColumn: column } = entry;
  if (source === undefined || line === undefined || column === undefined) return null;
  const prefix = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
  const type = site.getTypeName();
  const own = `${type !== null && type !== 'global' ? `${type}.` : ''}${site.getFunctionName() || site.getMethodName() || '<anonymous>'}`;
  const name = originalName(sm, site, caller, offset) ?? own;
  return `${prefix}${name} (${source}:${line + 1}:${column + 1})`;
}

/** The name the sources give the frame's function, where the map records one (a transpiler may rename). */
function originalName(
  sm: SourceMap,
  site: NodeJS.CallSite,
  caller: NodeJS.CallSite | undefined,
  offset: number,
): string | undefined {
  const nameAt = (line: number | null, column: number | null): string | undefined =>
    line === null || column === null
      ? undefined
      : ((sm.findEntry(line - 1 - offset, column - 1) as { name?: string }).name ?? undefined);
  return (
    nameAt(site.getEnclosingLineNumber(), site.getEnclosingColumnNumber()) ||
    (caller && caller.getFileName() === site.getFileName()
      ? nameAt(caller.getLineNumber(), caller.getColumnNumber())
      : undefined) ||
    undefined
  );
}
