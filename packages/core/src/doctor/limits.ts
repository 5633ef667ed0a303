// fcgi doctor's check of the address-space limit (ulimit -v, RLIMIT_AS): Node reserves address
// space far beyond what it uses, and dies at start ("Failed to reserve virtual memory for
// CodeRange") under a limit that looks generous.
import { readFileSync } from 'node:fs';
import type { Finding } from './finding.js';

/**
 * The address space the bundled examples/hello.ts needs to start, measured with `prlimit --as=` on
 * Node 20.20 x86-64 (docs/deploy/doctor.md): it never starts at 700 MiB, only sometimes between 750
 * and 1000 MiB (1000 failed every time with its source map), and every time from 1024 MiB.
 */
export const NEEDED_ADDRESS_SPACE_MIB = 1024;

/** The soft "Max address space" of /proc/self/limits in bytes; null when unlimited or unknown. */
export function addressSpaceLimit(text?: string): number | null {
  let limits = text;
  if (limits === undefined) {
    try {
      limits = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max address space\s+(\S+)/m.exec(limits);
  return m && /^\d+$/.test(m[1]!) ? Number(m[1]) : null;
}

/** Checks this process's address-space limit (inherited from the shell, as the app's from Apache). */
export function checkAddressSpace(limit = addressSpaceLimit()): Finding {
  if (limit === null) return { level: 'ok', check: 'address space', message: 'no limit (ulimit -v: unlimited)' };
  const mib = Math.floor(limit / 1048576);
  if (mib >= NEEDED_ADDRESS_SPACE_MIB) {
    return {
      level: 'ok',
      check: 'address space',
      message: `${mib} MiB allowed (Node needs about ${NEEDED_ADDRESS_SPACE_MIB})`,
    };
  }
  return {
    level: 'problem',
    check: 'address space',
    message:
      `this shell allows ${mib} MiB of address space (ulimit -v), and Node needs about ${NEEDED_ADDRESS_SPACE_MIB} MiB ` +
      'to start: below that it dies with "Failed to reserve virtual memory for CodeRange"',
    fix:
      `run \`ulimit -v ${NEEDED_ADDRESS_SPACE_MIB * 1024}\` (or unlimited) before starting it here; for the web server, ` +
      `ask the host for at least ${NEEDED_ADDRESS_SPACE_MIB} MiB (Apache's RLimitMEM applies to CGI, not to mod_fcgid)`,
  };
}
