// Runs a docs page command by command (the tests named docs-*.test.ts): its fenced blocks in page
// order, each ```sh block run by /bin/sh in the folder the previous one ended in, a ```text block
// right after an ```sh block being that block's expected output, a block whose first line is a
// comment naming a path (`// src/app.ts`, `# /etc/apache2/sites-available/myapp.conf`) written to
// that path, and the page's substitutions (its host names, ports and directories made the test's)
// applied to all of them. A block marked `<!-- not run: why -->` is shown to the reader only.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { it } from 'node:test';
import { ROOT } from './app-process.js';
import type { RunAs } from './deploy-app.js';

export interface DocBlock {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The text of an `<!-- ... -->` line right before the block (blank lines between allowed), or null. */
  marker: string | null;
  /** For an sh block: the ```text block right after it. */
  output: string | null;
}

/** The fenced blocks of a markdown page, in order. */
export function fencedBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let lastEnd = -1; // the line index of the last closing fence
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    let prev = start - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const marker = prev >= 0 ? (/^<!-- (.*) -->$/.exec(lines[prev]!)?.[1]?.trim() ?? null) : null;
    const block: DocBlock = { lang: open[1]!, text: `${body.join('\n')}\n`, line: start + 1, marker, output: null };
    const last = blocks.at(-1);
    const adjacent = lastEnd >= 0 && lines.slice(lastEnd + 1, start).every((l) => l.trim() === '');
    if (block.lang === 'text' && last?.lang === 'sh' && adjacent) last.output = block.text;
    else blocks.push(block);
    lastEnd = i;
  }
  return blocks;
}

/** Why a block is shown but not run (`<!-- not run: why -->`), or null when it runs. */
export function notRun(b: DocBlock): string | null {
  return /^not run: (.+)$/.exec(b.marker ?? '')?.[1] ?? null;
}

/**
 * The path a block is written to: its first line is `// <path>` (ts, js) or `# <path>` (any
 * other language), and its language is one of `langs`; null otherwise.
 */
export function blockFile(b: DocBlock, langs: readonly string[]): string | null {
  if (!langs.includes(b.lang)) return null;
  const first = b.text.split('\n')[0]!;
  const m = (b.lang === 'ts' || b.lang === 'js' ? /^\/\/ (\S+)$/ : /^# (\S+)$/).exec(first);
  return m?.[1] ?? null;
}

/** Writes a file block's text to `path` (relative to `cwd`), its folder made, both owned by `owner` when given. */
export function writeBlockFile(cwd: string, path: string, text: string, owner: RunAs | null = null): void {
  const file = isAbsolute(path) ? path : join(cwd, path);
  mkdirSync(dirname(file), { recursive: true });
  if (owner) chownSync(dirname(file), owner.uid, owner.gid);
  writeFileSync(file, text);
  if (owner) chownSync(file, owner.uid, owner.gid);
}

/**
 * What a block printed, made comparable with the page: the block's working directory dropped from
 * absolute paths, byte counts read "N bytes".
 */
export function normalizeOutput(stdout: string, cwd: string): string {
  return stdout.replaceAll(`${cwd}/`, '').replace(/\d+ bytes/g, 'N bytes');
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A reader's shell: runs each block's commands with `/bin/sh -e` as `user` (or as this process),
 * starting in the folder the previous block ended in, with exactly `env` as the environment.
 */
export class DocShell {
  cwd: string;
  readonly #user: RunAs | null;
  readonly #env: Record<string, string>;
  readonly #cwdFile: string;

  /** `cwdFile`: a path `user` can write, where each block leaves the folder it ended in. */
  constructor(o: { cwd: string; user: RunAs | null; env: Record<string, string>; cwdFile: string }) {
    this.cwd = o.cwd;
    this.#user = o.user;
    this.#env = o.env;
    this.#cwdFile = o.cwdFile;
  }

  run(text: string, ms = 150_000): Promise<ShellResult> {
    const script = `${text}\npwd > ${this.#cwdFile}\n`;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-ec', script], {
        cwd: this.cwd,
        ...(this.#user ? { uid: this.#user.uid, gid: this.#user.gid } : {}),
        env: this.#env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        try {
          this.cwd = readFileSync(this.#cwdFile, 'utf8').trim() || this.cwd;
        } catch {
          // the block failed before the end
        }
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Runs `b` (its text already substituted) and checks its exit status and, when the page shows it, its output. */
  async check(
    page: string,
    b: DocBlock,
    text: string,
    expected: string | null,
    ms?: number,
    diagnose: () => string = () => '',
  ): Promise<ShellResult> {
    const r = await this.run(text, ms);
    assert.equal(r.code, 0, `${page}:${b.line} failed (${r.code}):\n${r.stderr}${r.stdout}${diagnose()}`);
    if (expected !== null)
      assert.equal(normalizeOutput(r.stdout, this.cwd), expected, `${page}:${b.line}: output differs`);
    return r;
  }
}

/** PATH for a reader's shell: `first` directories, this Node's, then the system's. */
export function readerPath(...first: string[]): string {
  return [...first, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin']
    .filter((d, i, all) => all.indexOf(d) === i)
    .join(':');
}

/** npm settings for a reader's shell: the given cache, taken from without asking the registry again. */
export function npmEnv(cache: string): Record<string, string> {
  return {
    npm_config_cache: cache,
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
}

/** `npm pack` of the built packages/core into `dir`: the package as npm would bring it. Returns the tarball's path. */
export function packCore(dir: string): string {
  const r = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: join(ROOT, 'packages/core'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return join(dir, r.stdout.trim().split('\n').at(-1)!);
}

/**
 * npm's cache for a page's test: `name` in the repository's node_modules/.cache, which outlives the
 * run so a second one needs no network; unless `user` cannot write there (a clone under /root): then
 * `fallback()`, a fresh one.
 */
export function npmCache(name: string, user: RunAs | null, fallback: () => string): string {
  const cache = join(ROOT, 'node_modules/.cache', name);
  mkdirSync(cache, { recursive: true });
  if (!user) return cache;
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, cache], { timeout: 30_000 });
  const reachable = spawnSync('test', ['-w', cache], { uid: user.uid, gid: user.gid, timeout: 10_000 });
  return reachable.status === 0 ? cache : fallback();
}

export interface PageRun {
  page: string;
  blocks: readonly DocBlock[];
  /** The reader's shell, made in the test's before(). */
  shell: () => DocShell;
  /** The page's substitutions, for commands, expected output, file paths and file text. */
  subst: (text: string) => string;
  /** The languages of blocks written to disk when their first line names a path. */
  fileLangs: readonly string[];
  /** Who owns the files written, or null for this process's user. */
  owner?: () => RunAs | null;
  /** Each line of a block marked `<!-- not run: ... -->` must match this (the page's shown-only commands). */
  notRunLines: RegExp;
  /** Called, in page order, where a not-run block stands (a test starting what it would start). */
  onNotRun?: (b: DocBlock) => Promise<void> | void;
  timeoutMs?: number;
  /** What to add to a failed command's message (the server's error log, say). */
  diagnose?: () => string;
}

/** One test per block, in page order: write the files, run the commands, compare the output. */
export function pageTests(o: PageRun): void {
  for (const b of o.blocks) {
    const first = b.text.split('\n')[0]!;
    const why = notRun(b);
    if (why !== null) {
      it(`${o.page}:${b.line}: shown, not run (${why}): ${first}`, async () => {
        const lines = b.text.split('\n').filter((l) => l.trim() !== '');
        for (const l of lines)
          assert.match(l, o.notRunLines, `${o.page}:${b.line}: only these may be left to the reader`);
        await o.onNotRun?.(b);
      });
      continue;
    }
    const path = blockFile(b, o.fileLangs);
    if (path !== null) {
      it(`${o.page}:${b.line}: writes ${path}`, () => {
        const shell = o.shell();
        writeBlockFile(shell.cwd, o.subst(path), o.subst(b.text), o.owner?.() ?? null);
      });
      continue;
    }
    if (b.lang !== 'sh') continue;
    const ms = o.timeoutMs ?? 60_000;
    it(`${o.page}:${b.line}: ${first}`, { timeout: ms + 5000 }, async () => {
      const expected = b.output === null ? null : o.subst(b.output);
      await o.shell().check(o.page, b, o.subst(b.text), expected, ms, o.diagnose);
    });
  }
}
