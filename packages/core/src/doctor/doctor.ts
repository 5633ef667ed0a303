// fcgi doctor: every check of an uploaded app file, in the order a customer should fix them.
import { resolve } from 'node:path';
import { checkEnvFile } from './env-check.js';
import { checkFile, firstLine } from './file-checks.js';
import type { Finding } from './finding.js';
import { checkHtaccess } from './htaccess-check.js';
import { checkInterpreter } from './interpreter.js';
import { checkAddressSpace } from './limits.js';
import { checkLoads } from './load-check.js';

export interface DoctorOptions {
  /** Also run the app in check mode to see that it loads (default true). */
  load?: boolean;
  /** The user and group the app runs as; default this process's (suEXEC runs it as its owner). */
  uid?: number;
  gid?: number;
}

/** Runs the checks of `file` (a path; a symlink is checked as the link). */
export function doctor(file: string, options: DoctorOptions = {}): Finding[] {
  const path = resolve(file);
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const gid = options.gid ?? process.getgid?.() ?? 0;
  const { bytes, findings } = checkFile(path, uid, gid);
  if (bytes === null) return findings;
  const first = firstLine(bytes);
  const interpreter = first.crlf || first.bom ? [] : checkInterpreter(first.text);
  findings.push(...interpreter, ...checkHtaccess(path), ...checkEnvFile(path, uid), checkAddressSpace());
  if (options.load !== false) {
    // Run as Apache would only when the exec bit and the first line allow it.
    const runnable = !findings.some(
      (f) => f.level === 'problem' && ['first line', 'line ends', 'exec bit', 'interpreter'].includes(f.check),
    );
    findings.push(checkLoads(path, runnable));
  }
  return findings;
}
