// node-fastcgi's hello as its users would ship it to a host without npm: esbuild's own bundle with a
// node shebang, no source map and none of @fcgi's start code (which `fcgi bundle` would wrap it in).
import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Bundles `entry` (relative to `root`) into `outfile`, mode 755; resolves its size in bytes. */
export async function plainBundle(root, entry, outfile) {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild');
  const r = await esbuild.build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
    metafile: true,
  });
  chmodSync(outfile, 0o755);
  return Object.values(r.metafile.outputs)[0].bytes;
}
