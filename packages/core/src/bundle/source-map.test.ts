// The inline map's sources become absolute paths of the build machine; nothing else changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withAbsoluteSources } from './source-map.js';

const inline = (map: object) =>
  `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
const mapOf = (code: string) =>
  JSON.parse(Buffer.from(code.slice(code.lastIndexOf(',') + 1).trim(), 'base64').toString('utf8'));

test('relative sources are resolved against the output directory; absolute and virtual ones kept', () => {
  const map = {
    version: 3,
    sources: ['../src/app.ts', '../node_modules/x/index.js', '/abs/y.ts', 'fcgi-builtin:node:fs', 'stdin.js'],
    mappings: 'AAAA',
  };
  const code = `#!/usr/bin/env node\nconsole.log(1);\n${inline(map)}\n`;
  const out = withAbsoluteSources(code, '/home/dev/app/dist');
  assert.ok(out.startsWith('#!/usr/bin/env node\nconsole.log(1);\n//# sourceMappingURL=data:application/json;base64,'));
  assert.ok(out.endsWith('\n'));
  assert.deepEqual(mapOf(out), {
    ...map,
    sources: [
      '/home/dev/app/src/app.ts',
      '/home/dev/app/node_modules/x/index.js',
      '/abs/y.ts',
      'fcgi-builtin:node:fs',
      '/home/dev/app/dist/stdin.js',
    ],
  });
});

test('code without an inline map is returned as it is', () => {
  assert.equal(withAbsoluteSources('x();\n', '/d'), 'x();\n');
});
