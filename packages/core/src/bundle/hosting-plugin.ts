// Where a bundle's start code (@fcgi/core/hosting) comes from: the app's own @fcgi/core when it
// has one that exports it (so that its serve() and the start share one fcgi.env and check mode),
// else the @fcgi/core running `fcgi bundle` (an app that does not use @fcgi/core at all).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PluginBuild } from './wrapper.js';

const SPECIFIER = '@fcgi/core/hosting';

/** The file `@fcgi/core/hosting` names for an app in `appDir`. */
export function hostingEntry(appDir: string): string {
  try {
    return createRequire(`${appDir}/`).resolve(SPECIFIER);
  } catch {
    return fileURLToPath(new URL('../start.js', import.meta.url));
  }
}

/** An esbuild plugin resolving the stub's `@fcgi/core/hosting` with hostingEntry(). */
export function hostingPlugin(appDir: string) {
  const path = hostingEntry(appDir);
  return {
    name: 'fcgi-hosting',
    setup(build: PluginBuild): void {
      build.onResolve({ filter: /^@fcgi\/core\/hosting$/ }, () => ({ path }));
    },
  };
}
