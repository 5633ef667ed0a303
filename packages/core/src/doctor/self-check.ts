// `node app.fcgi --check`: the bundle's checks of its own file, printed before it loads the app
// itself in check mode (the load is checked in this process, not in a child).
import { doctor } from './doctor.js';
import { formatFindings, hasProblem } from './finding.js';

/** Prints the findings for `file` (all but the load); true when one is a problem. */
export function checkOwnFile(file: string): boolean {
  const findings = doctor(file, { load: false });
  process.stdout.write(`fcgi check: ${file}\n${formatFindings(findings)}`);
  return hasProblem(findings);
}
