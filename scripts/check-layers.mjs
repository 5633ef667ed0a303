#!/usr/bin/env node
// Checks that imports in packages/*/src point one way: the layer table below, the package
// boundaries, and no import cycles among files; and that nothing is re-exported with `export *`.
// Exit 1 lists each wrong arrow with file and line.
//
//   node scripts/check-layers.mjs [--report-only] [--root <dir>]
//
// --report-only (or CHECK_LAYERS_REPORT_ONLY=1) prints the same list but exits 0. --root checks
// another tree laid out as packages/<name>/src (the checker's own tests use small fixture trees).
// Imports are read with the TypeScript compiler (a source file's `imports`: import and export-from
// statements, `import type`, `import x = require()`, `import()` calls and `import('x').T` types);
// type-only imports are arrows like any other.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API } from 'typescript/unstable/sync';
import { SyntaxKind } from 'typescript/unstable/ast';
import { computeLineStarts, skipTrivia } from 'typescript/unstable/ast/scanner';

/**
 * The layers of packages/core/src, keyed by folder (or by file, for files at the root of src).
 * `may` lists the layers a layer may import besides itself; anything else is a wrong arrow.
 * Bottom to top: protocol <- connection <- http <- send <- app <- the entry points on top;
 * errors.ts and semantics/ are leaves.
 */
export const CORE_LAYERS = {
  'errors.ts': { may: [], why: 'the error catalogue: a leaf every layer may throw from' },
  protocol: {
    may: ['errors.ts'],
    why: 'bytes in, records out: the wire format knows nothing of streams, requests or HTTP',
  },
  semantics: {
    may: ['errors.ts'],
    why: 'HTTP semantics (negotiation, conditionals, ranges...): pure functions over header strings, no transport',
  },
  connection: {
    may: ['protocol', 'errors.ts'],
    why: 'one duplex stream of records and the request state machines; no HTTP',
  },
  http: {
    may: ['connection', 'protocol', 'semantics', 'errors.ts'],
    why: 'environ to a request, a response to records: the first layer that knows HTTP',
  },
  send: {
    may: ['http', 'semantics', 'errors.ts'],
    why: 'the file sender under res.sendFile() and @fcgi/static: needs responses, never the app',
  },
  app: {
    may: ['send', 'http', 'connection', 'protocol', 'semantics', 'errors.ts'],
    why: 'the dispatcher and the Express-style request/response; knows nothing of how it is served',
  },
  client: {
    may: ['http', 'connection', 'protocol', 'errors.ts'],
    why: "the FastCGI client speaks the protocol (and reads CGI heads with http's rules), never an app",
  },
  gateway: {
    may: ['client', 'http', 'semantics', 'connection', 'protocol', 'errors.ts'],
    why: 'an HTTP front for FastCGI applications: client plus http, no app',
  },
  server: {
    may: ['app', 'send', 'http', 'connection', 'protocol', 'semantics', 'errors.ts'],
    why: 'sockets, listeners, workers and lifecycle: on top, runs handlers it is given',
  },
  cgi: {
    may: ['app', 'send', 'http', 'connection', 'protocol', 'semantics', 'errors.ts'],
    why: 'the CGI transport: on top, runs one request from stdin to stdout',
  },
  hosting: {
    may: ['errors.ts'],
    why: "the shared host's rules: fcgi.env (read by serve() and a bundle's start) and check mode",
  },
  doctor: {
    may: ['hosting', 'errors.ts'],
    why: 'fcgi doctor: checks an app file from outside; shares the fcgi.env rules and check mode with hosting',
  },
  bundle: {
    may: [],
    why: 'fcgi bundle: builds an app into one file with esbuild; a top layer no other layer imports',
  },
  'serve.ts': {
    may: [
      'hosting',
      'server',
      'cgi',
      'gateway',
      'client',
      'app',
      'send',
      'http',
      'connection',
      'protocol',
      'semantics',
      'errors.ts',
    ],
    why: 'serve(): picks a transport (socket, stdin listener, CGI, the development gateway) for a handler',
  },
  'start.ts': {
    may: ['doctor', 'hosting', 'serve.ts', 'server', 'cgi', 'http', 'errors.ts'],
    why: 'how a bundled app starts (@fcgi/core/hosting): --check, fcgi.env, the load; a 500 when it fails to load',
  },
  'create-app.ts': {
    may: ['serve.ts', 'server', 'app', 'http', 'errors.ts'],
    why: 'createApp(): the app of the app layer with listen(), which serves it (serve() sits above the app)',
  },
  'cli.ts': {
    may: [
      'bundle',
      'doctor',
      'serve.ts',
      'server',
      'cgi',
      'client',
      'gateway',
      'app',
      'send',
      'http',
      'connection',
      'protocol',
      'semantics',
      'errors.ts',
    ],
    why: 'the fcgi command: the very top',
  },
  'index.ts': {
    may: ['*'],
    why: 'the package entry: names what is public, from any layer',
  },
};

/** Node built-ins a layer must not import, each with why. */
export const FORBIDDEN_BUILTINS = {
  protocol: {
    names: [
      'net',
      'tls',
      'dgram',
      'timers',
      'timers/promises',
      'child_process',
      'cluster',
      'http',
      'fs',
      'fs/promises',
    ],
    why: 'the protocol is bytes only: no sockets, timers, files or processes (tests feed it buffers)',
  },
  semantics: {
    // node:net stays allowed for its pure address parsing (isIP for proxy trust).
    names: ['tls', 'dgram', 'timers', 'timers/promises', 'child_process', 'cluster', 'http'],
    why: 'semantics are pure functions over strings and stats: no transport',
  },
};

/** Packages of the workspace and whom they may import, with why. */
export const PACKAGE_RULES = {
  core: { may: [], why: '@fcgi/core is the base: it never imports the router or the file server' },
  router: { may: ['core'], why: '@fcgi/router builds on @fcgi/core through its package exports only' },
  static: { may: ['core'], why: '@fcgi/static builds on @fcgi/core through its package exports only' },
  express: {
    may: ['core', 'router', 'static'],
    why: "@fcgi/express is the top layer: Express's entry point made of the other three; none imports it",
  },
};

const builtins = new Set(builtinModules);
const isBuiltin = (spec) => spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]);
const builtinName = (spec) => (spec.startsWith('node:') ? spec.slice(5) : spec);

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (
      /\.(m|c)?tsx?$/.test(entry.name) &&
      !/\.test\.(m|c)?tsx?$/.test(entry.name) &&
      !entry.name.endsWith('.d.ts')
    )
      out.push(p);
  }
  return out;
}

/** The workspace's packages: directory name, npm name, exports map. */
function readPackages(root) {
  const pkgs = new Map();
  const base = join(root, 'packages');
  if (!existsSync(base)) return pkgs;
  for (const entry of readdirSync(base, { withFileTypes: true })) {
    if (!entry.isDirectory() || !existsSync(join(base, entry.name, 'src'))) continue;
    const manifest = join(base, entry.name, 'package.json');
    const json = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : {};
    pkgs.set(entry.name, {
      dir: entry.name,
      name: json.name ?? `@fcgi/${entry.name}`,
      exports: json.exports ?? { '.': './dist/index.js' },
    });
  }
  return pkgs;
}

/** Reads every file's import specifiers, with the line of each, through the TypeScript compiler. */
function readImports(files) {
  const dir = mkdtempSync(join(tmpdir(), 'check-layers-'));
  const config = join(dir, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({ compilerOptions: { noResolve: true, noLib: true, types: [], allowJs: true }, files }),
  );
  const api = new API({ cwd: dir });
  try {
    const project = api.updateSnapshot({ openProject: config }).getProjects()[0];
    const result = new Map();
    for (const file of files) {
      const sf = project.program.getSourceFile(file);
      const text = readFileSync(file, 'utf8');
      const lines = computeLineStarts(text);
      const lineOf = (pos) => {
        let lo = 0;
        let hi = lines.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (lines[mid] <= pos) lo = mid;
          else hi = mid - 1;
        }
        return lo + 1;
      };
      result.set(
        file,
        (sf?.imports ?? []).map((node) => ({
          spec: node.text,
          line: lineOf(skipTrivia(text, node.pos)),
          typeOnly: isTypeOnly(node),
          // `export * from`: re-exports whatever the target holds, now and later.
          star: node.parent?.kind === SyntaxKind.ExportDeclaration && !node.parent.exportClause,
        })),
      );
    }
    return result;
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function isTypeOnly(node) {
  const parent = node.parent;
  if (!parent) return false;
  if (parent.kind === SyntaxKind.ImportDeclaration) return Boolean(parent.importClause?.isTypeOnly);
  if (parent.kind === SyntaxKind.ExportDeclaration) return Boolean(parent.isTypeOnly);
  return parent.kind === SyntaxKind.LiteralType;
}

/** Where a core file sits: its folder under src, or its own name for files at the root of src. */
export function coreLayerOf(relToSrc) {
  return relToSrc.split('/')[0];
}

const TS_FOR_JS = [
  ['.js', '.ts'],
  ['.mjs', '.mts'],
  ['.cjs', '.cts'],
  ['.jsx', '.tsx'],
];

/** The source file a relative specifier names, or undefined when there is none. */
function resolveRelative(fromFile, spec) {
  const target = resolve(dirname(fromFile), spec);
  const candidates = [target];
  for (const [js, ts] of TS_FOR_JS) if (target.endsWith(js)) candidates.unshift(target.slice(0, -js.length) + ts);
  candidates.push(`${target}.ts`, join(target, 'index.ts'));
  return candidates.find((c) => existsSync(c) && !c.endsWith(sep));
}

/** The source file behind a workspace package specifier (`@fcgi/core/protocol`), through its exports. */
function resolvePackage(root, pkg, subpath) {
  const entry = pkg.exports[subpath === '' ? '.' : `./${subpath}`];
  if (entry === undefined) return undefined;
  const target = typeof entry === 'string' ? entry : (entry.types ?? entry.import ?? entry.default);
  if (typeof target !== 'string') return undefined;
  const src = target
    .replace(/^\.\/dist\//, './src/')
    .replace(/\.d\.ts$/, '.ts')
    .replace(/\.js$/, '.ts');
  const file = join(root, 'packages', pkg.dir, src);
  return existsSync(file) ? file : undefined;
}

/**
 * Checks the tree at `root` and returns its problems, each `{ file, line, message }` (file relative
 * to root), sorted by file and line.
 */
export function checkLayers(root) {
  const pkgs = readPackages(root);
  const byName = new Map([...pkgs.values()].map((p) => [p.name, p]));
  const files = [];
  for (const pkg of pkgs.values()) walk(join(root, 'packages', pkg.dir, 'src'), files);
  files.sort();
  const imports = readImports(files);
  const problems = [];
  const edges = new Map(files.map((f) => [f, []]));
  const rel = (f) => relative(root, f).split(sep).join('/');

  for (const file of files) {
    const [, pkgDir, , ...rest] = rel(file).split('/');
    const inSrc = rest.join('/');
    const layer = pkgDir === 'core' ? coreLayerOf(inSrc) : undefined;
    const rule = layer === undefined ? undefined : CORE_LAYERS[layer];
    const report = (line, message) => problems.push({ file: rel(file), line, message });
    if (pkgDir === 'core' && rule === undefined)
      report(1, `core/src/${layer} is in no layer: add it to CORE_LAYERS in scripts/check-layers.mjs`);

    for (const { spec, line, star } of imports.get(file)) {
      if (star) report(line, `export * from '${spec}': name each export, so that what is public is a decision`);
      if (isBuiltin(spec)) {
        const forbidden = layer !== undefined ? FORBIDDEN_BUILTINS[layer] : undefined;
        if (forbidden?.names.includes(builtinName(spec))) report(line, `${layer} imports ${spec}: ${forbidden.why}`);
        continue;
      }
      let target;
      if (spec.startsWith('.')) {
        target = resolveRelative(file, spec);
        if (target === undefined) continue; // not a source file (JSON, assets); tsc reports what does not exist
        const [top, targetPkg] = rel(target).split('/');
        if (top !== 'packages' || targetPkg !== pkgDir) {
          const to = top === 'packages' ? targetPkg : top;
          const pkgName = pkgs.get(targetPkg)?.name ?? to;
          report(
            line,
            `${pkgDir} imports ${rel(target)} by a relative path: import ${pkgName} through its package exports`,
          );
          if (top !== 'packages' || !pkgs.has(targetPkg)) continue;
        }
      } else {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        const pkg = byName.get(name);
        if (pkg === undefined) continue; // an npm dependency
        const subpath = spec.slice(name.length + 1);
        if (pkg.dir === pkgDir) {
          report(line, `${pkgDir} imports itself as ${spec}: use a relative path inside a package`);
          continue;
        }
        const allowed = PACKAGE_RULES[pkgDir]?.may ?? [];
        if (!allowed.includes(pkg.dir)) {
          report(
            line,
            `${pkgDir} imports ${spec}: ${PACKAGE_RULES[pkgDir]?.why ?? `${pkgDir} is not in PACKAGE_RULES`}`,
          );
        }
        target = resolvePackage(root, pkg, subpath);
        if (target === undefined) {
          report(line, `${spec} is not in ${pkg.name}'s package.json exports`);
          continue;
        }
      }
      edges.get(file)?.push({ to: target, line });
      const [, targetPkg, , ...targetRest] = rel(target).split('/');
      if (pkgDir === 'core' && targetPkg === 'core' && rule !== undefined) {
        const targetLayer = coreLayerOf(targetRest.join('/'));
        if (targetLayer !== layer && !rule.may.includes('*') && !rule.may.includes(targetLayer)) {
          const why = CORE_LAYERS[targetLayer]
            ? `${layer} may import only ${rule.may.join(', ') || 'nothing'} (${rule.why})`
            : `${targetLayer} is in no layer`;
          report(line, `${layer} -> ${targetLayer} (${spec}): ${why}`);
        }
      }
    }
  }

  for (const { group, cycle } of findCycles(files, edges)) {
    const arrows = cycle.map(({ from, to, line }) => `${rel(from)}:${line} -> ${rel(to)}`);
    const others = [...group].filter((f) => !cycle.some((a) => a.from === f)).map(rel);
    const more = others.length > 0 ? ` (the same knot also holds ${others.join(', ')})` : '';
    problems.push({
      file: rel(cycle[0].from),
      line: cycle[0].line,
      message: `import cycle: ${arrows.join(', ')}${more}`,
    });
  }
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

/** Each strongly connected group of files (Tarjan) with one shortest cycle through it, as arrows. */
function findCycles(files, edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const groups = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (!idx.has(to)) {
        strong(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)));
    }
    if (low.get(v) === idx.get(v)) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      const self = (edges.get(v) ?? []).some((e) => e.to === v);
      if (group.length > 1 || self) groups.push(new Set(group));
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);

  return groups.map((group) => {
    const start = [...group].sort()[0];
    // Breadth-first from start back to start inside the group: the shortest cycle through it.
    const prev = new Map();
    const queue = [start];
    const seen = new Set();
    while (queue.length > 0) {
      const v = queue.shift();
      for (const e of edges.get(v) ?? []) {
        if (!group.has(e.to)) continue;
        if (e.to === start) {
          const path = [{ from: v, to: start, line: e.line }];
          let at = v;
          while (at !== start) {
            const p = prev.get(at);
            path.unshift(p);
            at = p.from;
          }
          return { group, cycle: path };
        }
        if (seen.has(e.to)) continue;
        seen.add(e.to);
        prev.set(e.to, { from: v, to: e.to, line: e.line });
        queue.push(e.to);
      }
    }
    return { group, cycle: [] };
  });
}

function main() {
  const args = process.argv.slice(2);
  const reportOnly = args.includes('--report-only') || process.env.CHECK_LAYERS_REPORT_ONLY === '1';
  const at = args.indexOf('--root');
  const root = at >= 0 ? resolve(args[at + 1]) : join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkLayers(root);
  if (problems.length === 0) {
    console.log('check-layers: imports point one way, no cycles');
    return;
  }
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  console.error(`check-layers: ${problems.length} wrong arrow(s)${reportOnly ? ' (report only, not failing)' : ''}`);
  if (!reportOnly) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
