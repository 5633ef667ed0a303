// A view as Express 5's View finds it: the file for a name under the `views` roots (the default
// extension added when missing, `name/index.ext`, roots in order) and the engine for its extension,
// registered with app.engine() or loaded from the package named after the extension.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What an engine calls back with: an error, or the rendered text. */
export type RenderCallback = (err: Error | null, html?: string) => void;

/** A template engine in Express's convention: `(path, options, callback)` (ejs.__express, pug.__express...). */
export type ViewEngine = (path: string, options: Record<string, any>, callback: RenderCallback) => void;

/** What the `view` setting's class is given: Express's View options. */
export interface ViewOptions {
  /** The `view engine` setting: the extension of names that have none. */
  defaultEngine: string | undefined;
  /** The `views` setting: a directory or several, searched in order. */
  root: string | readonly string[];
  /** The app's engines by extension ('.ejs'); a View adds the ones it loads. */
  engines: Record<string, ViewEngine>;
}

/** An object of the `view` setting's class: Express asks it for `path` (unset: not found) and render(). */
export interface ViewLike {
  path?: string | undefined;
  root?: unknown;
  render(options: Record<string, any>, callback: RenderCallback): void;
}

/** The `view` setting: Express's View by default; nunjucks and others put their own class there. */
export type ViewClass = new (name: string, options: ViewOptions) => ViewLike;

export class View implements ViewLike {
  readonly defaultEngine: string | undefined;
  readonly ext: string;
  readonly name: string;
  readonly root: string | readonly string[];
  readonly engine: ViewEngine;
  /** The file found, or undefined when no root has it. */
  readonly path: string | undefined;

  /** Finds the file and the engine; throws (with Express's words) when neither extension nor engine is known. */
  constructor(name: string, options: ViewOptions) {
    this.defaultEngine = options.defaultEngine;
    this.name = name;
    this.root = options.root;
    let ext = extname(name);
    let fileName = name;
    if (!ext) {
      if (!this.defaultEngine) throw new Error('No default engine was specified and no extension was provided.');
      ext = this.defaultEngine[0] !== '.' ? `.${this.defaultEngine}` : this.defaultEngine;
      fileName += ext;
    }
    this.ext = ext;
    options.engines[ext] ??= loadEngine(ext.slice(1), this.root);
    this.engine = options.engines[ext];
    this.path = this.lookup(fileName);
  }

  /** The first root (in order) that has the file, as `<name>` or `<name>/index<ext>`. */
  lookup(name: string): string | undefined {
    const roots = ([] as string[]).concat(this.root as string | string[]);
    for (const root of roots) {
      const loc = resolve(root, name);
      const found = this.resolve(dirname(loc), basename(loc));
      if (found) return found;
    }
    return undefined;
  }

  /** `dir/file` if it is a file, else `dir/<file without ext>/index<ext>`. */
  resolve(dir: string, file: string): string | undefined {
    const direct = join(dir, file);
    if (isFile(direct)) return direct;
    const index = join(dir, basename(file, this.ext), `index${this.ext}`);
    return isFile(index) ? index : undefined;
  }

  /** Runs the engine; a callback it calls at once is deferred to the next tick, as Express does. */
  render(options: Record<string, any>, callback: RenderCallback): void {
    let sync = true;
    this.engine(this.path!, options, (err, html) => {
      if (sync) process.nextTick(callback, err, html);
      else callback(err, html);
    });
    sync = false;
  }
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

/**
 * The engine of package `mod` (its `__express`, as Express's `require(mod).__express`), resolved
 * from the working directory and then from each views root: the app's node_modules, which
 * @fcgi/core's own location would not see under pnpm. A package that cannot be required (ESM with
 * top-level await) is imported on first render.
 */
export function loadEngine(mod: string, roots: string | readonly string[]): ViewEngine {
  const bases = [process.cwd(), ...([] as string[]).concat(roots as string | string[])];
  let notFound: unknown;
  for (const base of bases) {
    const req = createRequire(join(resolve(base), 'noop.js'));
    let path: string;
    try {
      path = req.resolve(mod);
    } catch (err) {
      notFound ??= err;
      continue;
    }
    try {
      return engineOf(mod, req(path));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
      return importedEngine(mod, path);
    }
  }
  throw notFound;
}

type Exported = { __express?: unknown; __esModule?: unknown; default?: { __express?: unknown } } | null;

/** `__express` of what `mod` exports (of its default export too, for an ES module, transpiled or not). */
function engineOf(mod: string, exported: unknown): ViewEngine {
  const m = exported as Exported;
  const esm =
    m !== null &&
    typeof m === 'object' &&
    (m.__esModule === true || Object.prototype.toString.call(m) === '[object Module]');
  const fn = m?.__express ?? (esm ? m?.default?.__express : undefined);
  if (typeof fn !== 'function') throw new Error(`Module "${mod}" does not provide a view engine.`);
  return fn as ViewEngine;
}

/** An engine that import()s its ES module on first use and then renders with its `__express`. */
function importedEngine(mod: string, path: string): ViewEngine {
  let loaded: Promise<ViewEngine> | undefined;
  return (file, options, callback) => {
    loaded ??= import(pathToFileURL(path).href).then((m: unknown) => engineOf(mod, m));
    loaded.then(
      (engine) => {
        try {
          engine(file, options, callback);
        } catch (err) {
          callback(err as Error); // a throwing engine fails the render, as View.render's caller does
        }
      },
      (err: Error) => callback(err),
    );
  };
}
