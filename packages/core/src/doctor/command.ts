// The `fcgi doctor` command line: finds the app file (the argument, or the one .fcgi/.cgi file
// in the working directory), prints each check with its fix, exit 1 when something is wrong.
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { doctor } from './doctor.js';
import { formatFindings, hasProblem } from './finding.js';
import { SERVER_KINDS, type ServerKind } from './runner.js';

export const DOCTOR_USAGE = `  fcgi doctor [app-file] [--server suexec|apache|other] [--no-load]
      Checks an uploaded app file as the web server will run it: line ends, exec bit, owner and
      write bits of the file and its directory, the interpreter on the first line, the .htaccess
      beside it, fcgi.env, the address-space limit, and that the app loads (run in check mode, as
      the web server would: --no-load skips that). Each problem comes with its fix; exit status 1
      when there is one. Without app-file: the one .fcgi or .cgi file here. --server picks the
      rules: suexec (Apache runs the app as you, by suEXEC's rules), apache (as Apache's user),
      other (nginx, lighttpd, Caddy: no .htaccess); by default what this machine has, printed.
      The bundle itself does the same: node app.fcgi --check [--server ...]
`;

/** Runs `fcgi doctor` with `argv` (the arguments after `doctor`); returns the exit code. */
export function doctorCommand(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`fcgi doctor: ${(e as Error).message}\n\nusage:\n${DOCTOR_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    process.stderr.write(`fcgi doctor: takes one app file\n\nusage:\n${DOCTOR_USAGE}`);
    return 2;
  }
  let file = positionals[0];
  if (file === undefined) {
    const found = readdirSync('.').filter((n) => /\.(fcgi|cgi)$/.test(n));
    if (found.length !== 1) {
      process.stderr.write(
        `fcgi doctor: ${found.length ? `several app files here (${found.join(', ')})` : 'no .fcgi or .cgi file here'}: name the one to check, e.g. fcgi doctor app.fcgi\n`,
      );
      return 2;
    }
    file = found[0]!;
  }
  const server = values.server as ServerKind | undefined;
  if (server !== undefined && !SERVER_KINDS.includes(server)) {
    process.stderr.write(`fcgi doctor: --server takes ${SERVER_KINDS.join(', ')}, not "${server}"\n`);
    return 2;
  }
  const { rules, findings } = doctor(file, { load: !values['no-load'], server });
  process.stdout.write(`fcgi doctor: ${file}\nrules: ${rules}\n${formatFindings(findings)}`);
  return hasProblem(findings) ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'no-load': { type: 'boolean', default: false }, server: { type: 'string' } },
  });
}
