// fcgi doctor: every check of an uploaded app file, in the order a customer should fix them.
import { basename, resolve } from 'node:path';
import { checkEnvFile } from './env-check.js';
import { checkFile, firstLine } from './file-checks.js';
import type { Finding } from './finding.js';
import { checkHtaccess } from './htaccess-check.js';
import { checkInterpreter } from './interpreter.js';
import { checkAddressSpace } from './limits.js';
import { checkLoads } from './load-check.js';
import { chooseRunner, type ServerKind } from './runner.js';

export interface DoctorOptions {
  /** Also run the app in check mode to see that it loads (default true). */
  load?: boolean;
  /**
   * Whose rules: Apache with suEXEC, Apache without it, or another server. Default: suEXEC when
   * its helper is installed and this is not root, else Apache when installed, else other.
   */
  server?: ServerKind;
  /** Under suEXEC the user and group the app runs as; default this process's (suEXEC runs it as its owner). */
  uid?: number;
  gid?: number;
}

export interface DoctorReport {
  /** Which rules were applied and why, in words. */
  rules: string;
  findings: Finding[];
}

/** Runs the checks of `file` (a path; a symlink is checked as the link). */
export function doctor(file: string, options: DoctorOptions = {}): DoctorReport {
  const path = resolve(file);
  const runner = chooseRunner(
    options.server,
    options.uid ?? process.getuid?.() ?? 0,
    options.gid ?? process.getgid?.() ?? 0,
  );
  const report = (findings: Finding[]) => ({ rules: runner.why, findings });
  const { bytes, findings } = checkFile(path, runner);
  if (bytes === null) return report(findings);
  const first = firstLine(bytes);
  const interpreter = first.crlf || first.bom ? [] : checkInterpreter(first.text, runner.path, basename(path));
  findings.push(...interpreter);
  if (runner.kind !== 'other') findings.push(...checkHtaccess(path));
  findings.push(...checkEnvFile(path, runner.uid), checkAddressSpace());
  if (options.load !== false) {
    // Run as Apache would only when the exec bit and the first line allow it.
    const runnable = !findings.some(
      (f) => f.level === 'problem' && ['first line', 'line ends', 'exec bit', 'interpreter'].includes(f.check),
    );
    findings.push(checkLoads(path, runnable, runner.path));
  }
  return report(findings);
}
