// @fcgi/core/hosting, startBundledApp(): how a bundle made by `fcgi bundle` starts. First `--check` (the doctor's
// checks of the bundle's own file, then check mode), then the app's settings (fcgi.env, then the
// values fixed with `fcgi bundle --env`), and only then the app's own modules. When that fails
// under a web server (a refused fcgi.env, a throw in module code, a rejected top-level await) it
// logs why and answers with the production 500 page, instead of leaving the server waiting on a
// process that never listens.
import { inspect } from 'node:util';
import { isCgiEnvironment } from './cgi/index.js';
import { ErrorCode, FcgiError } from './errors.js';
import { answerError } from './http/error-answer.js';
import type { FcgiRequest, FcgiResponse } from './http/index.js';
import { logProcessLine } from './http/log-line.js';
import { serve } from './serve.js';
import { hasListeningSocketOnFd0, isClusterWorker } from './server/index.js';
import { enterCheckMode, finishCheckWithoutServe, inCheckMode, serveWasCalled } from './hosting/check-mode.js';
import { applyEnv, loadAppEnvFile } from './hosting/env-file.js';

/** A process whose app failed to load, with nothing to do, exits after this long (env FCGI_IDLE_TIMEOUT). */
const FAILED_IDLE_MS = 60_000;

export interface StartOptions {
  /** Values fixed at bundle time (`fcgi bundle --env NAME=VALUE`): set unless the environment has them. */
  env?: Readonly<Record<string, string>>;
  /** The app's main file, beside which fcgi.env is; default process.argv[1] (the bundle). */
  mainFile?: string;
  /** The command-line arguments; default process.argv.slice(2). */
  argv?: readonly string[];
}

/**
 * Starts the app that `load` imports. With `--check` it first prints the doctor's findings for the
 * bundle's own file, then loads the app without serving (serve() reports how it would serve) and
 * exits, non-zero when something is wrong. Otherwise it loads fcgi.env (beside the main file) and
 * the bundle-time values — neither replaces a variable the environment already has, and fcgi.env
 * comes first — and then imports the app.
 *
 * A start-up failure, started by a web server, is logged (time, pid, why) and then served: every
 * request gets the production 500 page until the file is replaced (the restart check), restart.txt
 * is touched, or the process is idle for a minute; as CGI the one request gets it. Run by hand (no
 * web server) the error is printed as Node prints an uncaught one, and the process exits 1.
 */
export async function startBundledApp(load: () => Promise<unknown>, options: StartOptions = {}): Promise<void> {
  const argv = options.argv ?? process.argv.slice(2);
  const mainFile = options.mainFile ?? process.argv[1];
  if (argv.includes('--check')) {
    // Loaded only here: the doctor costs a bundle nothing when it starts to serve.
    const { checkOwnFile } = await import('./doctor/self-check.js');
    enterCheckMode(checkOwnFile(mainFile ?? '', argv) ? 1 : 0);
  }
  try {
    loadAppEnvFile(mainFile);
    if (options.env) applyEnv(options.env);
    await load();
  } catch (err) {
    if (inCheckMode()) checkFailed(err);
    await serveLoadFailure(err);
    return;
  }
  if (inCheckMode() && !serveWasCalled()) finishCheckWithoutServe();
}

/** The words for the log: a refused fcgi.env says its fix, anything else its stack. */
function why(err: unknown): string {
  if (err instanceof FcgiError && err.code === ErrorCode.ENV_FILE) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function checkFailed(err: unknown): never {
  process.stderr.write(`${inCheckMode() ? 'fcgi check: ' : ''}the app did not start: ${why(err)}\n`);
  process.exit(1);
}

/** Answers every request with `err` through serve() and the one error renderer; rethrows it by hand. */
async function serveLoadFailure(err: unknown): Promise<void> {
  const cgi = isCgiEnvironment();
  if (!cgi && !isClusterWorker() && !hasListeningSocketOnFd0() && !process.env.FCGI_LISTEN) {
    // By hand: a refused fcgi.env says its fix in one line; anything else is printed as Node prints
    // an uncaught error, without the line of the bundle Node would quote above it: the stack (mapped
    // to the sources in a bundle with a map) says where.
    if (err instanceof FcgiError && err.code === ErrorCode.ENV_FILE) checkFailed(err);
    if (!(err instanceof Error)) throw err;
    process.stderr.write(`${inspect(err)}\n`);
    process.exit(1);
  }
  const then = cgi
    ? 'this request gets a 500'
    : "every request gets a 500 until the app's file is replaced or restart.txt beside it is touched";
  logProcessLine(`fcgi: the app did not start; ${then}: ${why(err)}`);
  const failed = (req: FcgiRequest, res: FcgiResponse): void =>
    answerError(req, res, err, { env: 'production', fallback: 'html' });
  await serve(failed, process.env.FCGI_IDLE_TIMEOUT ? {} : { idleTimeout: FAILED_IDLE_MS });
}

// The fcgi.env rules and check mode, for code that starts an app its own way.
export {
  applyEnv,
  appDirectory,
  ENV_FILE_NAME,
  envFileRefusal,
  loadAppEnvFile,
  loadEnvFile,
  type EnvFileRefusal,
  type EnvLoad,
} from './hosting/env-file.js';
export { inCheckMode, LOADED_LINE } from './hosting/check-mode.js';
