// What each of fcgi doctor's checks found — fine, a warning, or a problem with its fix — and how
// the findings are printed for a customer reading them over SSH.

export type Level = 'ok' | 'warning' | 'problem';

export interface Finding {
  level: Level;
  /** The check's short name: "line ends", "exec bit", "owner", ... */
  check: string;
  /** What was found, in plain words. */
  message: string;
  /** What to do about it (problems and warnings). */
  fix?: string;
}

/**
 * Added to the findings of an app that dies as it starts: mod_fcgid, losing the race to connect to
 * the dead process, starts another every second, and gives up after 32 rounds with a 503
 * (docs/deploy/shared-hosting.md, "A 500 that takes seconds").
 */
export const SLOW_UNDER_FCGID =
  '; under mod_fcgid the visitor may wait seconds for it, or get a 503 after about a minute';

const LABEL: Readonly<Record<Level, string>> = { ok: 'ok      ', warning: 'WARNING ', problem: 'PROBLEM ' };

/** The findings as lines (each problem and warning followed by its fix), and a summary line. */
export function formatFindings(findings: readonly Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${LABEL[f.level]} ${f.check}: ${f.message}`);
    if (f.fix !== undefined && f.level !== 'ok') lines.push(`         fix: ${f.fix}`);
  }
  const problems = findings.filter((f) => f.level === 'problem').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  lines.push(
    problems === 0
      ? `no problems found${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`
      : `${problems} problem${problems > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}: fix them in this order, then run this again`,
  );
  return `${lines.join('\n')}\n`;
}

/** True when any finding is a problem (the exit status is then 1). */
export function hasProblem(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.level === 'problem');
}
