// `node app.fcgi --check`: the bundle's checks of its own file, printed before it loads the app
// itself in check mode (the load is checked in this process, not in a child).
import { doctor } from './doctor.js';
import { formatFindings, hasProblem } from './finding.js';
import { SERVER_KINDS, type ServerKind } from './runner.js';

/**
 * Prints the findings for `file` (all but the load) by the rules `--server <kind>` in `argv`
 * names, else this machine's; true when one is a problem (an unknown kind is one).
 */
export function checkOwnFile(file: string, argv: readonly string[]): boolean {
  const at = argv.indexOf('--server');
  const asked = at < 0 ? undefined : argv[at + 1];
  if (asked !== undefined && !SERVER_KINDS.includes(asked as ServerKind)) {
    process.stdout.write(`fcgi check: --server takes ${SERVER_KINDS.join(', ')}, not "${asked}"\n`);
    return true;
  }
  const { rules, findings } = doctor(file, { load: false, server: asked as ServerKind | undefined });
  process.stdout.write(`fcgi check: ${file}\nrules: ${rules}\n${formatFindings(findings)}`);
  return hasProblem(findings);
}
