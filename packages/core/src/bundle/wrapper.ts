// The text around the app's code in a bundle: a CommonJS file (it runs under any name, app.fcgi or
// app.cgi) whose body is the app's ES module code inside an async function, so top-level await works.
import { builtinModules } from 'node:module';

/** The name the bundle gives `require` for Node's built-in modules (a free identifier esbuild leaves alone). */
const REQUIRE = '__fcgiRequire';
const META_URL = '__fcgiImportMetaUrl';

/** What replaces `import.meta.*` in the sources: the bundle's own file. */
export const IMPORT_META_DEFINES: Readonly<Record<string, string>> = {
  'import.meta.url': META_URL,
  'import.meta.filename': '__filename',
  'import.meta.dirname': '__dirname',
};

/**
 * The lines before the app's code. Node reads a file's source map when it compiles the file, and
 * it compiles the bundle before any of it runs: so the bundle, started as the main module, turns
 * source maps on and loads itself once more (that copy is compiled with them, and runs the app).
 * Without `sourceMaps` the bundle carries no map and runs as it is.
 */
export function banner(shebang: string, sourceMaps: boolean): string {
  const reload = [
    'if (require.main === module && !process.sourceMapsEnabled) {',
    '  process.setSourceMapsEnabled(true);',
    '  delete require.cache[__filename];',
    '  require(__filename);',
    '  return;',
    '}',
  ];
  return [
    shebang,
    '"use strict";',
    ...(sourceMaps ? reload : []),
    `const ${REQUIRE} = require;`,
    `const ${META_URL} = require("node:url").pathToFileURL(__filename).href;`,
    // Parenthesized and called at once: V8 compiles it with the file instead of parsing it twice.
    '(async function __fcgiMain() {',
  ].join('\n');
}

/** The lines after the app's code: run it (a rejection is an uncaught error, as in an ES module). */
export const FOOTER = '})();';

const BUILTINS = new Set(builtinModules);
const NAMESPACE = 'fcgi-builtin';

/** The subset of esbuild's plugin API used here (esbuild is loaded at run time, not compiled against). */
export interface PluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: { path: string }) => { path: string; namespace?: string; sideEffects?: boolean } | undefined,
  ): void;
  onLoad(
    options: { filter: RegExp; namespace: string },
    callback: (args: { path: string }) => { contents: string; loader: 'js' },
  ): void;
}

/**
 * An esbuild plugin that turns every import of a Node built-in into a `require()` call: the output
 * is an ES module with no `import` statement left, so it can sit inside a function.
 */
export const builtinsPlugin = {
  name: 'fcgi-builtins',
  setup(build: PluginBuild): void {
    build.onResolve({ filter: /^[a-z_:]/ }, ({ path }) =>
      path.startsWith('node:') || BUILTINS.has(path) ? { path, namespace: NAMESPACE } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, ({ path }) => ({
      contents: `module.exports = ${REQUIRE}(${JSON.stringify(path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The stub entry: the values fixed with `fcgi bundle --env` (envValuesPlugin), then the app's entry
 * (entryPlugin), imported lazily by startBundledApp, so a throw while it loads is caught there
 * (logged, then answered with a 500) instead of hanging the web server. Without code splitting
 * esbuild keeps the import() in the one file as a lazy init. `@fcgi/core/hosting`: hostingPlugin.
 */
export const ENTRY_STUB =
  'import { startBundledApp } from "@fcgi/core/hosting"; import env from "fcgi-bundle:env"; await startBundledApp(() => import("fcgi-bundle:entry"), { env });';

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
