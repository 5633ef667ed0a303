// Check mode (`node app.fcgi --check`, or FCGI_CHECK=1 as `fcgi doctor` runs an app): the app is
// loaded but never serves; serve() says how it would have served, and the process exits.

let active = false;
let exitStatus = 0;
let serveCalled = false;

/** The line that says the app loaded (`fcgi doctor` looks for it in the child's output). */
export const LOADED_LINE = 'fcgi check: the app loaded';

/** Turns check mode on; the process exits with `status` once the app called serve(). */
export function enterCheckMode(status: number): void {
  active = true;
  exitStatus = status;
}

/** Whether this process only checks the app: `--check` given to a bundle, or FCGI_CHECK=1. */
export function inCheckMode(): boolean {
  return active || process.env.FCGI_CHECK === '1';
}

/** Whether serve() (or listen()) was called while checking. */
export function serveWasCalled(): boolean {
  return serveCalled;
}

/** serve() in check mode: reports how it would serve (`how`) and exits. */
export function finishCheck(how: string): never {
  serveCalled = true;
  process.stdout.write(`${LOADED_LINE} and called serve(): started here it would serve ${how}\n`);
  process.exit(exitStatus);
}

/** The app finished loading without calling serve(): reported as a problem, then exit. */
export function finishCheckWithoutServe(): never {
  process.stdout.write(
    `${LOADED_LINE}, but it did not call serve() or listen() while loading, so it would answer no request: ` +
      'fix: end the main file with `await app.listen()` or `await serve(handler)`\n',
  );
  process.exit(1);
}
