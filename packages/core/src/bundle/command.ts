// The `fcgi bundle` command line: reads the arguments, runs bundle(), prints what was written or
// the refusal with its fix, and sets the exit code (0 written, 1 refused, 2 wrong usage).
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { parseEnvAssignments } from './env-values.js';
import { BundleError } from './errors.js';

export const BUNDLE_USAGE = `  fcgi bundle <entry> <outfile> [--node PATH] [--node-options="--opt ..."] [--htaccess] [--env NAME=VALUE]... [--no-source-maps]
      Builds the app's entry (TypeScript or JavaScript) and everything it imports into ONE
      executable file (mode 755) that runs with nothing but Node 20, as a FastCGI app (mod_fcgid,
      FCGI_LISTEN) or as CGI, under any name (app.fcgi, app.cgi). Top-level await works; stacks
      name the app's source files (their paths where it was built, wherever the bundle runs).
      Needs esbuild (npm install --save-dev esbuild).
      --node PATH   the first line runs this node (default: #!/usr/bin/env node)
      --node-options="--opt ..."  Node options on the first line (through env -S), which
                    survive suEXEC, e.g. "--v8-pool-size=1" (docs/deploy/memory.md)
      --htaccess    also writes the .htaccess beside it (app.fcgi: mod_fcgid, app.cgi: CGI)
      --env NAME=VALUE  a value set before the app loads, unless the environment or fcgi.env
                    has it (repeatable; readable by whoever can read the file: no secrets)
      --no-source-maps  no source map (read only when a stack is printed) and no code cache
                    (docs/deploy/memory.md): the code runs as written in the file, stacks name
                    the bundle's lines
`;

/** Runs `fcgi bundle` with `argv` (the arguments after `bundle`); returns the exit code. */
export async function bundleCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`fcgi bundle: ${(e as Error).message}\n\nusage:\n${BUNDLE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 2) {
    process.stderr.write(
      `fcgi bundle: ${positionals.length < 2 ? 'needs' : 'takes only'} an entry and an output file, e.g. fcgi bundle src/app.ts dist/app.fcgi\n\nusage:\n${BUNDLE_USAGE}`,
    );
    return 2;
  }
  try {
    const env = parseEnvAssignments(values.env);
    const r = await bundle({
      env,
      entry: positionals[0]!,
      outfile: positionals[1]!,
      node: values.node,
      nodeOptions: values['node-options']?.split(' ').filter((o) => o !== ''),
      htaccess: values.htaccess,
      sourceMaps: !values['no-source-maps'],
    });
    for (const w of r.warnings) process.stderr.write(`fcgi bundle: warning: ${w}\n`);
    process.stdout.write(`${r.outfile}: ${r.bytes} bytes, mode 755\n`);
    if (r.htaccess !== undefined) process.stdout.write(`${r.htaccess}: written\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    process.stderr.write(`fcgi bundle: ${e.message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      node: { type: 'string' },
      'node-options': { type: 'string' },
      htaccess: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
      'no-source-maps': { type: 'boolean', default: false },
    },
  });
}
