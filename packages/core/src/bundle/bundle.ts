// `fcgi bundle`: an app's entry and everything it imports in ONE executable file that runs with
// nothing but Node 20, as a FastCGI app (mod_fcgid, FCGI_LISTEN) or as CGI, under any file name.
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { envValuesPlugin } from './env-values.js';
import { BundleError } from './errors.js';
import { type EsbuildMessage, loadEsbuild } from './esbuild.js';
import { hostingPlugin } from './hosting-plugin.js';
import { htaccessFor } from './htaccess.js';
import { packInlineMap, splitPackedMap, withAbsoluteSources } from './source-map.js';
import { jsonPlugin } from './json-plugin.js';
import {
  banner,
  builtinsPlugin,
  linkBuiltinNamespaces,
  CACHED_BANNER,
  CACHED_FOOTER,
  cachedBundle,
  entryPlugin,
  entryStub,
  FOOTER,
  IMPORT_META_DEFINES,
  stacksPlugin,
} from './wrapper.js';

export interface BundleOptions {
  /** The app's main file (TypeScript or JavaScript); a symlink is followed. */
  entry: string;
  /** The file to write (mode 755), for example dist/app.fcgi. */
  outfile: string;
  /** The absolute path of node for the first line; `#!/usr/bin/env node` when absent. */
  node?: string | undefined;
  /**
   * Node options for the first line (e.g. `--v8-pool-size=1`), which a host that strips the
   * environment (suEXEC drops NODE_OPTIONS) still passes: `#!/usr/bin/env -S node --v8-pool-size=1`.
   */
  nodeOptions?: readonly string[] | undefined;
  /** Also write the matching .htaccess beside the output. */
  htaccess?: boolean | undefined;
  /**
   * Carry a source map, so stacks name the sources (default true): it is read the first time a
   * stack is formatted, so it costs a start nothing but file size; the code is then carried as a
   * string compiled with V8's code cache (code-cache.ts). Off, the code runs as written in the
   * file and stacks name its lines.
   */
  sourceMaps?: boolean | undefined;
  /**
   * Values fixed in the bundle (`--env NAME=VALUE`): set before the app loads unless the
   * environment or fcgi.env has them. Anyone who can read the bundle can read them.
   */
  env?: Readonly<Record<string, string>> | undefined;
}

export interface BundleResult {
  outfile: string;
  bytes: number;
  /** The .htaccess written (or already there, the same), when asked for. */
  htaccess?: string;
  /** esbuild's warnings (`file:line:column: text`), and one for an output under "type": "module". */
  warnings: string[];
}

/** An option the first line can carry through `env -S` unchanged: no spaces, quotes, `\\`, `$` or `#`. */
const NODE_OPTION = /^--[A-Za-z0-9][A-Za-z0-9_-]*(=[A-Za-z0-9._,:/+@%-]+)?$/;
/** Linux reads at most this many bytes of a first line (BINPRM_BUF_SIZE, 256 since Linux 5.1, with the `#!`). */
const MAX_SHEBANG = 255;

/**
 * The first line of the bundle for `node` (an absolute path), or the env lookup by default. With
 * `nodeOptions` it goes through `env -S`, since Linux hands everything after the interpreter to
 * it as one argument.
 */
export function shebangFor(node: string | undefined, nodeOptions: readonly string[] = []): string {
  if (node !== undefined && (!node.startsWith('/') || /\s/.test(node))) {
    throw new BundleError(
      `--node ${JSON.stringify(node)} is not an absolute path without spaces, which the first line needs`,
      'give the full path of node on the host, e.g. --node /opt/alt/alt-nodejs20/root/usr/bin/node (`which node` there)',
    );
  }
  for (const option of nodeOptions) {
    if (!NODE_OPTION.test(option)) {
      throw new BundleError(
        `--node-options: ${JSON.stringify(option)} is not one option of the form --name or --name=value (no spaces or quotes)`,
        'give the options separated by spaces, each as Node spells it, e.g. --node-options="--v8-pool-size=1 --max-old-space-size=128"',
      );
    }
  }
  if (nodeOptions.length === 0) return node === undefined ? '#!/usr/bin/env node' : `#!${node}`;
  const line = `#!/usr/bin/env -S ${node ?? 'node'} ${nodeOptions.join(' ')}`;
  if (line.length > MAX_SHEBANG) {
    throw new BundleError(
      `the first line would be ${line.length} bytes, and Linux reads only ${MAX_SHEBANG}`,
      'give fewer or shorter --node-options',
    );
  }
  return line;
}

function entryPath(entry: string): string {
  const full = resolve(entry);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    throw new BundleError(`no entry file at ${full}`, "give the path of the app's main file, e.g. src/app.ts");
  }
  if (!statSync(real).isFile()) {
    throw new BundleError(`the entry ${full} is not a file`, "give the path of the app's main file, e.g. src/app.ts");
  }
  return real;
}

/** Checks that `out` can be written (and its directory made), before any bundling. */
function checkWritable(out: string): void {
  const dir = dirname(out);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new BundleError(
      `cannot make the output directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'choose an output path in a directory you can write',
    );
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new BundleError(`the output ${out} is a directory`, `give a file name, e.g. ${join(out, 'app.fcgi')}`);
  }
}

function writeOrRefuse(file: string, text: string, mode: number): void {
  try {
    writeFileSync(file, text, { mode });
    chmodSync(file, mode);
  } catch (e) {
    throw new BundleError(
      `cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      `choose an output path in a directory you can write, or fix its permissions (chmod u+w ${dirname(file)})`,
    );
  }
}

/**
 * A warning when the nearest package.json above `out` says `"type": "module"`: Node then refuses
 * to run a file named .fcgi or .cgi there (ERR_UNKNOWN_FILE_EXTENSION), as CommonJS or not.
 */
function typeModuleWarning(out: string): string | undefined {
  for (let dir = dirname(out); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
      } catch {
        return undefined;
      }
      return type === 'module'
        ? `${manifest} says "type": "module", so Node will not run ${basename(out)} inside ${dir} ` +
            '(ERR_UNKNOWN_FILE_EXTENSION); it runs where no such package.json is above it, as on the host: ' +
            'write it outside that directory to try it locally'
        : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function where(m: EsbuildMessage): string {
  return m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
}

/** What to do about one esbuild error, in plain words. */
function fixFor(m: EsbuildMessage): string {
  const missing = /^Could not resolve "([^"]+)"/.exec(m.text);
  if (missing) {
    return missing[1]!.startsWith('.') || missing[1]!.startsWith('/')
      ? 'fix the import path (it is relative to the importing file)'
      : `install it in the app's directory (npm install ${missing[1]}) or fix the import`;
  }
  return 'change the source there: the bundle is built for Node 20 (esbuild target node20)';
}

/** Builds the bundle (and the .htaccess when asked for); throws BundleError with the fix. */
export async function bundle(options: BundleOptions): Promise<BundleResult> {
  const shebang = shebangFor(options.node, options.nodeOptions);
  const sourceMaps = options.sourceMaps ?? true;
  const entry = entryPath(options.entry);
  const out = resolve(options.outfile);
  const htaccess = options.htaccess ? htaccessFor(basename(out)) : undefined;
  checkWritable(out);
  const esbuild = await loadEsbuild(dirname(entry));
  let result: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    result = await esbuild.build({
      // The entry imported from a stub, so that its exports (if any) leave no `export` statement.
      stdin: {
        contents: entryStub(sourceMaps),
        resolveDir: dirname(entry),
        sourcefile: 'fcgi-bundle-entry.js',
      },
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: sourceMaps ? 'inline' : false,
      // Stacks need the map's positions only, not the sources' text.
      sourcesContent: false,
      define: { ...IMPORT_META_DEFINES },
      banner: { js: sourceMaps ? CACHED_BANNER : banner(shebang) },
      footer: { js: sourceMaps ? CACHED_FOOTER : FOOTER },
      plugins: [
        entryPlugin(entry),
        stacksPlugin,
        hostingPlugin(dirname(entry)),
        envValuesPlugin(options.env ?? {}),
        builtinsPlugin,
        jsonPlugin,
      ],
      logLevel: 'silent',
      write: false,
    });
  } catch (e) {
    const errors = (e as { errors?: EsbuildMessage[] }).errors;
    if (!errors?.length) {
      // Not the sources: esbuild itself (a binary for another platform, a broken install).
      throw new BundleError(
        `esbuild failed: ${(e as Error).message}`,
        "reinstall it in the app's directory (npm install --save-dev esbuild)",
      );
    }
    const lines = errors.map((m) => `\n  ${where(m)}${m.text}\n    fix: ${fixFor(m)}`);
    throw new BundleError(`esbuild could not bundle ${entry}`, lines.join(''));
  }
  const output = linkBuiltinNamespaces(result.outputFiles[0]!.text);
  let code = output;
  if (sourceMaps) {
    const { code: app, map } = splitPackedMap(packInlineMap(withAbsoluteSources(output, dirname(out))));
    code = cachedBundle(shebang, app, map);
  }
  writeOrRefuse(out, code, 0o755);
  const written: BundleResult = {
    outfile: out,
    bytes: Buffer.byteLength(code),
    warnings: result.warnings.map((m) => `${where(m)}${m.text}`),
  };
  const typeModule = typeModuleWarning(out);
  if (typeModule !== undefined) written.warnings.push(typeModule);
  if (htaccess !== undefined) {
    const file = join(dirname(out), '.htaccess');
    if (existsSync(file) && readFileSync(file, 'utf8') !== htaccess) {
      throw new BundleError(
        `${file} exists with other lines (the bundle is written; the .htaccess is left as it was)`,
        `merge these lines into it, or remove it and run again:\n${htaccess}`,
      );
    }
    writeOrRefuse(file, htaccess, 0o644);
    written.htaccess = file;
  }
  return written;
}
