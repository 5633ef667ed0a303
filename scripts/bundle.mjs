#!/usr/bin/env node
// Bundles a TypeScript (or JavaScript) app entry and everything it imports, @fcgi/core and its
// dependencies included, into ONE executable JavaScript file: a shared host with Node but no npm
// runs it as it is, as a FastCGI app (mod_fcgid, lighttpd bin-path), on FCGI_LISTEN, or as CGI.
//   node scripts/bundle.mjs src/app.ts dist/app.fcgi
// Output: `#!/usr/bin/env node` first, mode 755, code for Node 20 (platform node, target node20).
// Needs @fcgi/core built (its dist/).
//
// Why CommonJS and not ESM output: Node runs an ES module only from a file named .mjs/.js (with
// "type": "module"); `node app.fcgi` or `node app.cgi` with ESM inside fails with
// ERR_UNKNOWN_FILE_EXTENSION, and mod_fcgid/mod_cgi pick the handler by that extension. A CommonJS
// file runs under any name. ES module sources (the app, @fcgi/core, ESM-only packages) convert
// fine; the one thing CommonJS cannot hold is a top-level `await` in the app's own code: use
// `app.listen().then(...)` or an async function instead (esbuild says so if you forget).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const SHEBANG = '#!/usr/bin/env node';
// `import.meta.url` in the sources becomes the bundle's own file URL.
const META_URL = '__fcgiImportMetaUrl';
const BANNER = `const ${META_URL} = require('node:url').pathToFileURL(__filename).href;`;

export async function bundle(entry, outfile) {
  const out = resolve(outfile);
  mkdirSync(dirname(out), { recursive: true });
  const result = await build({
    entryPoints: [resolve(entry)],
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { 'import.meta.url': META_URL },
    banner: { js: BANNER },
    logLevel: 'warning',
    write: false,
  });
  // esbuild keeps an entry's own shebang at the top: replace it (or its absence) with ours.
  const code = SHEBANG + '\n' + result.outputFiles[0].text.replace(/^(#![^\n]*\n)+/, '');
  writeFileSync(out, code);
  chmodSync(out, 0o755);
  return { outfile: out, bytes: Buffer.byteLength(code) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [entry, outfile] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error('usage: node scripts/bundle.mjs <entry.ts> <out-file>');
    process.exit(2);
  }
  try {
    const { outfile: written, bytes } = await bundle(entry, outfile);
    console.log(`${written}: ${bytes} bytes, mode 755`);
  } catch (e) {
    // esbuild already printed its diagnostics (file:line and what is wrong).
    console.error(e instanceof Error ? e.message.split('\n')[0] : e);
    process.exit(1);
  }
}
