// The text around the app's code in a bundle: a CommonJS file (it runs under any name, app.fcgi or
// app.cgi) whose body is the app's ES module code inside an async function, so top-level await works.
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runBundle } from './code-cache.js';

/** The name the bundle gives `require` for Node's built-in modules (a free identifier esbuild leaves alone). */
const REQUIRE = '__fcgiRequire';
const META_URL = '__fcgiImportMetaUrl';
/** The name of the packed source map the code is handed (mapped-stacks.ts reads it). */
const MAP = '__fcgiMap';

/** What replaces `import.meta.*` in the sources: the bundle's own file. */
export const IMPORT_META_DEFINES: Readonly<Record<string, string>> = {
  'import.meta.url': META_URL,
  'import.meta.filename': '__filename',
  'import.meta.dirname': '__dirname',
};

/**
 * The lines before the app's code. The bundle runs as it is: with a source map, its stacks are
 * mapped when they are formatted (mapped-stacks.ts, called from the entry stub), not by Node as it
 * compiles the file.
 */
export function banner(shebang: string): string {
  return [
    shebang,
    '"use strict";',
    `const ${REQUIRE} = require;`,
    `const ${META_URL} = require("node:url").pathToFileURL(__filename).href;`,
    // Parenthesized and called at once: V8 compiles it with the file instead of parsing it twice.
    '(async function __fcgiMain() {',
  ].join('\n');
}

/**
 * With a source map the app's code is carried as a string and compiled with V8's code cache
 * (code-cache.ts): esbuild's output is then this function expression, whose parameters are what
 * the plain banner defines and the CommonJS wrapper gives.
 */
export const CACHED_BANNER = [
  '"use strict";',
  `(async function __fcgiMain(${REQUIRE}, ${META_URL}, require, module, exports, __filename, __dirname, ${MAP}) {`,
].join('\n');
/**
 * Lines of the bundle before its code's: V8 numbers the code's lines from here (vm.Script's
 * lineOffset), so that mapped-stacks.ts tells the loader's frames (the same file name) from the code's.
 */
export const CODE_LINE_OFFSET = 2 + runBundle.toString().split('\n').length;
export const CACHED_FOOTER = '})';

/**
 * The bundle around `code` (esbuild's output for CACHED_BANNER, without its map) and `map` (the
 * packed map's base64, handed to the code as a string): the first line, then runBundle called with
 * the code as a string, whose line is the last: CODE_LINE_OFFSET lines before the code's own.
 */
export function cachedBundle(shebang: string, code: string, map: string): string {
  const key = createHash('sha256').update(code).digest('hex').slice(0, 32);
  const args = `[require, require("node:url").pathToFileURL(__filename).href, require, module, exports, __filename, __dirname, ${JSON.stringify(map)}]`;
  return [
    shebang,
    '"use strict";',
    `(${runBundle.toString()})(${JSON.stringify(code)}, "${key}", __filename, ${CODE_LINE_OFFSET}, ${args}, require);`,
  ].join('\n');
}

/** The lines after the app's code: run it (a rejection is an uncaught error, as in an ES module). */
export const FOOTER = '})();';

const BUILTINS = new Set(builtinModules);

/** The subset of esbuild's plugin API used here (esbuild is loaded at run time, not compiled against). */
export interface PluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: {
      path: string;
      kind?: string;
    }) => { path: string; namespace?: string; sideEffects?: boolean } | undefined,
  ): void;
  onLoad(
    options: { filter: RegExp; namespace: string },
    callback: (args: { path: string }) => { contents: string; loader: 'js' },
  ): void;
}

/** A built-in as `require()` and `import()` give it: the module object itself. */
const REQUIRED = 'fcgi-builtin';
/** A built-in as `import` and `export ... from` statements take it: one ES module per built-in (importedSource). */
const IMPORTED = 'fcgi-builtin-import';

/**
 * The one ES module every `import` of the built-in `name` goes through: its default export the
 * module object itself, its named exports the module's properties. Without it esbuild's CommonJS
 * interop copies every property of a built-in (a getter each) once per module importing it: 55
 * copies of a dozen built-ins at a hello's start (0.7-1.7 ms of it in a profile); this way none
 * (linkBuiltinNamespaces).
 */
function importedSource(name: string): string {
  return `export * from ${JSON.stringify(`${REQUIRED}:${name}`)}; export default ${REQUIRE}(${JSON.stringify(name)});`;
}

/** esbuild's output for importedSource's `export *`: a copy of the module's properties into its namespace. */
const REEXPORT = new RegExp(
  `("${IMPORTED}:[^"\\n]+"\\(\\) \\{\\s*)__reExport\\((\\w+), __toESM\\((\\w+)\\(\\)\\)\\);`,
  'g',
);

/**
 * In esbuild's `output`, each built-in's namespace (importedSource) gets the module object itself
 * as its prototype instead of a copy of its properties, a getter each: named imports read the
 * module's properties (one step up, no call), and a start copies nothing. The one difference left
 * from Node: `Object.keys()` of a namespace import (`import * as fs`) lists `default` only. Where
 * esbuild's output does not have the expected shape the copy stays (slower at start, the same).
 */
export function linkBuiltinNamespaces(output: string): string {
  return output.replace(REEXPORT, '$1Object.setPrototypeOf($2, $3());');
}

/**
 * An esbuild plugin that turns every use of a Node built-in into a `require()` call: the output
 * is an ES module with no `import` statement left, so it can sit inside a function.
 */
export const builtinsPlugin = {
  name: 'fcgi-builtins',
  setup(build: PluginBuild): void {
    build.onResolve({ filter: /^fcgi-builtin:/ }, ({ path }) => ({
      path: path.slice(REQUIRED.length + 1),
      namespace: REQUIRED,
    }));
    build.onResolve({ filter: /^[a-z_:]/ }, ({ path, kind }) => {
      if (!path.startsWith('node:') && !BUILTINS.has(path)) return undefined;
      return { path, namespace: kind === 'import-statement' ? IMPORTED : REQUIRED };
    });
    build.onLoad({ filter: /.*/, namespace: IMPORTED }, ({ path }) => ({
      contents: importedSource(path),
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: REQUIRED }, ({ path }) => ({
      contents: `module.exports = ${REQUIRE}(${JSON.stringify(path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The stub entry: with a source map, stacks mapped from the start (mapped-stacks.ts, the copy in
 * the @fcgi/core that bundles); the values fixed with `fcgi bundle --env` (envValuesPlugin), then
 * the app's entry (entryPlugin), imported lazily by startBundledApp, so a throw while it loads is
 * caught there (logged, then answered with a 500) instead of hanging the web server. Without code
 * splitting esbuild keeps the import() in the one file as a lazy init. `@fcgi/core/hosting`:
 * hostingPlugin.
 */
export function entryStub(sourceMaps: boolean): string {
  return [
    ...(sourceMaps
      ? [
          `import { mapBundleStacks } from "fcgi-bundle:stacks"; mapBundleStacks(__filename, ${REQUIRE}, ${MAP}, ${CODE_LINE_OFFSET});`,
        ]
      : []),
    'import { startBundledApp } from "@fcgi/core/hosting"; import env from "fcgi-bundle:env"; await startBundledApp(() => import("fcgi-bundle:entry"), { env });',
  ].join('\n');
}

/** An esbuild plugin resolving the stub's `fcgi-bundle:stacks` to this package's mapped-stacks.js. */
export const stacksPlugin = {
  name: 'fcgi-stacks',
  setup(build: PluginBuild): void {
    const path = fileURLToPath(new URL('./mapped-stacks.js', import.meta.url));
    build.onResolve({ filter: /^fcgi-bundle:stacks$/ }, () => ({ path }));
  },
};

/**
 * An esbuild plugin that resolves the stub's import to the app's entry, always kept: the entry
 * runs for its effects, even in a package that says `"sideEffects": false`.
 */
export function entryPlugin(entry: string) {
  return {
    name: 'fcgi-entry',
    setup(build: PluginBuild): void {
      build.onResolve({ filter: /^fcgi-bundle:entry$/ }, () => ({ path: entry, sideEffects: true }));
    },
  };
}
