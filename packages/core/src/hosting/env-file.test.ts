// fcgi.env read from real files: dotenv's syntax, the environment wins, and the refusals.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FcgiError } from '../errors.js';
import { applyEnv, loadEnvFile } from './env-file.js';

describe('loadEnvFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcgi-env-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string, mode = 0o600) => {
    writeFileSync(join(dir, 'fcgi.env'), text);
    chmodSync(join(dir, 'fcgi.env'), mode);
  };

  it('no file: nothing set', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(loadEnvFile(join(dir, 'nowhere'), env), { file: null, set: [], kept: [] });
    assert.deepEqual(env, {});
  });

  it("reads dotenv's syntax (quotes, comments, export, CR LF) and keeps what the environment has", () => {
    write('# settings\r\nexport A=1\r\nB="two words" # note\r\nC=\'x=y\'\r\nKEEP=file\r\n');
    const env: NodeJS.ProcessEnv = { KEEP: 'real' };
    const r = loadEnvFile(dir, env, process.getuid?.());
    assert.deepEqual(env, { A: '1', B: 'two words', C: 'x=y', KEEP: 'real' });
    assert.deepEqual(r.set, ['A', 'B', 'C']);
    assert.deepEqual(r.kept, ['KEEP']);
  });

  it('refuses a file others may read or write, and one owned by another uid, with the fix', () => {
    write('A=1\n', 0o640);
    assert.equal(loadEnvFile(dir, {}, process.getuid?.()).set.length, 1, 'group-readable is allowed');
    for (const mode of [0o604, 0o602]) {
      write('A=1\n', mode);
      assert.throws(
        () => loadEnvFile(dir, {}, process.getuid?.()),
        (e: unknown) => e instanceof FcgiError && e.code === 'ERR_FCGI_ENV_FILE' && /fix: chmod 600 /.test(e.message),
      );
    }
    write('A=1\n');
    const other = (process.getuid?.() ?? 0) + 1;
    const env: NodeJS.ProcessEnv = {};
    assert.throws(() => loadEnvFile(dir, env, other), /belongs to .*but the app runs as/);
    assert.deepEqual(env, {}, 'nothing set from a refused file');
  });

  it('applyEnv: bundle-time values fill only what is missing', () => {
    const env: NodeJS.ProcessEnv = { A: 'real' };
    assert.deepEqual(applyEnv({ A: 'b', B: 'b' }, env), { file: null, set: ['B'], kept: ['A'] });
    assert.deepEqual(env, { A: 'real', B: 'b' });
  });
});
