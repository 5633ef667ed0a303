// Finds the esbuild that `fcgi bundle` uses: the app's own (an optional peer dependency of
// @fcgi/core), else one @fcgi/core can reach; refuses with the install command when there is none.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BundleError } from './errors.js';
import type { PluginBuild } from './wrapper.js';

/** One message of esbuild's (an error or a warning), as far as `fcgi bundle` reads it. */
export interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number; lineText: string } | null;
}

/** The options `fcgi bundle` passes to esbuild's build(). */
export interface EsbuildOptions {
  stdin: { contents: string; resolveDir: string; sourcefile: string };
  outfile: string;
  bundle: true;
  format: 'esm';
  platform: 'node';
  target: string;
  sourcemap: 'inline' | false;
  sourcesContent: boolean;
  define: Record<string, string>;
  banner: { js: string };
  footer: { js: string };
  plugins: { name: string; setup(build: PluginBuild): void }[];
  logLevel: 'silent';
  write: false;
}

/** The subset of esbuild's API used here. */
export interface Esbuild {
  version: string;
  build(options: EsbuildOptions): Promise<{
    outputFiles: { text: string }[];
    warnings: EsbuildMessage[];
  }>;
}

const INSTALL = 'npm install --save-dev esbuild';

/** Loads esbuild as seen from the app's directory `fromDir` first, then from @fcgi/core. */
export async function loadEsbuild(fromDir: string): Promise<Esbuild> {
  let resolved: string | undefined;
  for (const base of [`${fromDir}/`, import.meta.url]) {
    try {
      resolved = createRequire(base).resolve('esbuild');
      break;
    } catch {
      // not reachable from there
    }
  }
  if (resolved === undefined) {
    throw new BundleError(
      'esbuild is not installed, and fcgi bundle uses it to build the file',
      `run \`${INSTALL}\` in the app's directory`,
    );
  }
  const mod = (await import(pathToFileURL(resolved).href)) as Partial<Esbuild> & { default?: Partial<Esbuild> };
  const api = typeof mod.build === 'function' ? mod : mod.default;
  // 0.18 or newer (a 1.x counts as newer).
  const [major = 0, minor = 0] = (api?.version ?? '').split('.').map(Number);
  if (typeof api?.build !== 'function' || (major === 0 && minor < 18)) {
    throw new BundleError(
      `the esbuild at ${resolved} (${api?.version ?? 'unknown version'}) is too old for fcgi bundle`,
      `run \`npm install --save-dev esbuild@latest\` (0.18 or newer)`,
    );
  }
  return api as Esbuild;
}
