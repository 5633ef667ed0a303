// `fcgi bundle --env NAME=VALUE`: values fixed in the bundle, set before the app loads unless the
// environment (or fcgi.env) already has them. They are as readable as the bundle: no secrets.
import { BundleError } from './errors.js';
import type { PluginBuild } from './wrapper.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME=VALUE` arguments as an object; refuses a missing `=` or a name a shell could not export. */
export function parseEnvAssignments(list: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !NAME.test(name)) {
      throw new BundleError(
        `--env ${JSON.stringify(item)} is not NAME=VALUE with a name of letters, digits and "_"`,
        'write it as --env NODE_ENV=production (one --env per value)',
      );
    }
    values[name] = item.slice(eq + 1);
  }
  return values;
}

/** An esbuild plugin: `import env from "fcgi-bundle:env"` is `values`. */
export function envValuesPlugin(values: Readonly<Record<string, string>>) {
  return {
    name: 'fcgi-env',
    setup(build: PluginBuild): void {
      build.onResolve({ filter: /^fcgi-bundle:env$/ }, () => ({ path: 'env', namespace: 'fcgi-env' }));
      build.onLoad({ filter: /.*/, namespace: 'fcgi-env' }, () => ({
        contents: `export default ${JSON.stringify(values)};`,
        loader: 'js',
      }));
    },
  };
}
