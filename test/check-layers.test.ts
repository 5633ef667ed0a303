// scripts/check-layers.mjs on small fixture trees: a clean tree passes; a wrong arrow (also a
// type-only one), a cycle, a forbidden built-in, a crossed package boundary and `export *` are each
// reported with file and line and fail the run; --report-only lists the same and exits 0.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'check-layers.mjs');
const base = mkdtempSync(join(tmpdir(), 'check-layers-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

type Tree = Record<string, string>;

const manifest = (name: string, exports: Record<string, string>): string =>
  JSON.stringify({
    name,
    exports: Object.fromEntries(
      Object.entries(exports).map(([k, v]) => [k, { types: v.replace(/\.js$/, '.d.ts'), default: v }]),
    ),
  });

/** A small layered tree that passes; each case below changes or adds a file. */
const clean: Tree = {
  'packages/core/package.json': manifest('@fcgi/core', {
    '.': './dist/index.js',
    './protocol': './dist/protocol/index.js',
  }),
  'packages/core/src/errors.ts': '// errors\nexport class FcgiError extends Error {}\n',
  'packages/core/src/protocol/index.ts':
    "// wire\nimport { FcgiError } from '../errors.js';\nexport const HEADER_LEN = 8;\nexport { FcgiError };\n",
  'packages/core/src/protocol/index.test.ts': "// tests may import anything\nimport '../app/app.js';\n",
  'packages/core/src/connection/connection.ts':
    "// conn\nimport { HEADER_LEN } from '../protocol/index.js';\nexport const size = HEADER_LEN;\n",
  'packages/core/src/http/response.ts':
    "// http\nimport type { size } from '../connection/connection.js';\nimport { createHash } from 'node:crypto';\nexport type S = typeof size;\nexport const h = createHash;\n",
  'packages/core/src/app/app.ts':
    "// app\nimport type { S } from '../http/response.js';\nexport const app = (s: S) => s;\n",
  'packages/core/src/server/server.ts':
    "// server\nimport { app } from '../app/app.js';\nimport { createServer } from 'node:net';\nexport const serve = () => createServer(() => app as never);\n",
  'packages/core/src/index.ts':
    "// root\nexport { app } from './app/app.js';\nexport { serve } from './server/server.js';\n",
  'packages/router/package.json': manifest('@fcgi/router', { '.': './dist/index.js' }),
  'packages/router/src/index.ts':
    "// router\nimport { app } from '@fcgi/core';\nimport { HEADER_LEN } from '@fcgi/core/protocol';\nexport const r = [app, HEADER_LEN];\n",
};

let n = 0;
function run(changes: Tree, ...flags: string[]): { status: number | null; out: string } {
  const root = join(base, String(n++));
  for (const [path, text] of Object.entries({ ...clean, ...changes })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  // The suite itself may run with CHECK_LAYERS_REPORT_ONLY=1; the fixtures are checked for real.
  const env = { ...process.env };
  delete env['CHECK_LAYERS_REPORT_ONLY'];
  const r = spawnSync(process.execPath, [script, '--root', root, ...flags], { encoding: 'utf8', env });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('check-layers', () => {
  it('passes a clean tree (type-only and test-file imports included)', () => {
    const r = run({});
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /imports point one way, no cycles/);
  });

  it('reports a layer importing a layer above it, with file and line, and fails', () => {
    const r = run({
      'packages/core/src/protocol/record.ts':
        "// record\n\nimport { h } from '../http/response.js';\nexport const x = h;\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^packages\/core\/src\/protocol\/record\.ts:3: protocol -> http \(\.\.\/http\/response\.js\)/m);
    assert.match(r.out, /1 wrong arrow/);
  });

  it('counts a type-only import as an arrow', () => {
    const r = run({
      'packages/core/src/connection/state.ts':
        "// state\nimport type { S } from '../http/response.js';\nexport type T = S;\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^packages\/core\/src\/connection\/state\.ts:2: connection -> http/m);
  });

  it('reports an import cycle among files of one layer, arrow by arrow', () => {
    const r = run({
      'packages/core/src/app/a.ts': "// a\nimport type { B } from './b.js';\nexport interface A { b?: B }\n",
      'packages/core/src/app/b.ts': "// b\n\nimport type { A } from './a.js';\nexport interface B { a?: A }\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(
      r.out,
      /import cycle: packages\/core\/src\/app\/a\.ts:2 -> packages\/core\/src\/app\/b\.ts, packages\/core\/src\/app\/b\.ts:3 -> packages\/core\/src\/app\/a\.ts/,
    );
  });

  it('reports sockets or timers in the protocol layer', () => {
    const r = run({
      'packages/core/src/protocol/clock.ts':
        "// clock\nimport { setTimeout } from 'node:timers';\nexport const t = setTimeout;\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^packages\/core\/src\/protocol\/clock\.ts:2: protocol imports node:timers/m);
  });

  it('reports a folder that is in no layer', () => {
    const r = run({ 'packages/core/src/misc/util.ts': '// misc\nexport const u = 1;\n' });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /core\/src\/misc is in no layer/);
  });

  it('holds the package boundaries: exports only, and core never imports router', () => {
    const r = run({
      'packages/router/src/deep.ts':
        "// deep\nimport { app } from '../../core/src/app/app.js';\nimport { size } from '@fcgi/core/connection';\nexport const d = [app, size];\n",
      'packages/core/src/app/routes.ts': "// routes\nimport { r } from '@fcgi/router';\nexport const x = r;\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(
      r.out,
      /^packages\/router\/src\/deep\.ts:2: router imports packages\/core\/src\/app\/app\.ts by a relative path/m,
    );
    assert.match(
      r.out,
      /^packages\/router\/src\/deep\.ts:3: @fcgi\/core\/connection is not in @fcgi\/core's package\.json exports/m,
    );
    assert.match(r.out, /^packages\/core\/src\/app\/routes\.ts:2: core imports @fcgi\/router/m);
  });

  it('reports export * (named exports only)', () => {
    const r = run({
      'packages/core/src/index.ts':
        "// root\nexport { app } from './app/app.js';\nexport * from './server/server.js';\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^packages\/core\/src\/index\.ts:3: export \* from '\.\/server\/server\.js'/m);
  });

  it('--report-only lists the same arrows and exits 0', () => {
    const r = run(
      {
        'packages/core/src/protocol/record.ts':
          "// record\nimport { app } from '../app/app.js';\nexport const x = app;\n",
      },
      '--report-only',
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^packages\/core\/src\/protocol\/record\.ts:2: protocol -> app/m);
    assert.match(r.out, /report only, not failing/);
  });
});
