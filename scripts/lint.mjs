#!/usr/bin/env node
// Biome over the repository, as CI runs it (scripts/test.mjs calls this on a full run): the linter
// and the formatter's check.
// `npm run lint` runs this; `npm run format` rewrites files in the formatter's style.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const biome = join(root, 'node_modules/.bin/biome');
const r = spawnSync(biome, ['ci', '--reporter=summary', '--colors=off', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
if (r.error) console.error(`lint: cannot run ${biome}: ${r.error.message} (install first: npm test or pnpm install)`);
process.exit(r.status ?? 1);
