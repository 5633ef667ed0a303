// startBundledApp(): how a bundle made by `fcgi bundle` starts. First `--check` (the doctor's
// checks of the bundle's own file, then check mode), then the app's settings (fcgi.env, then the
// values fixed with `fcgi bundle --env`), and only then the app's own modules.
import { ErrorCode, FcgiError } from '../errors.js';
import { enterCheckMode, finishCheckWithoutServe, inCheckMode, serveWasCalled } from './check-mode.js';
import { applyEnv, loadAppEnvFile } from './env-file.js';

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
 * comes first — and then imports the app. A refused fcgi.env or an app that throws while loading
 * is a start-up failure: logged on stderr (the web server's error log), exit status 1.
 */
export async function startBundledApp(load: () => Promise<unknown>, options: StartOptions = {}): Promise<void> {
  const argv = options.argv ?? process.argv.slice(2);
  const mainFile = options.mainFile ?? process.argv[1];
  if (argv.includes('--check')) {
    // Loaded only here: the doctor costs a bundle nothing when it starts to serve.
    const { checkOwnFile } = await import('../doctor/self-check.js');
    enterCheckMode(checkOwnFile(mainFile ?? '') ? 1 : 0);
  }
  try {
    loadAppEnvFile(mainFile);
    if (options.env) applyEnv(options.env);
    await load();
  } catch (err) {
    startupFailed(err);
  }
  if (inCheckMode() && !serveWasCalled()) finishCheckWithoutServe();
}

function startupFailed(err: unknown): never {
  const text =
    err instanceof FcgiError && err.code === ErrorCode.ENV_FILE ? err.message : ((err as Error)?.stack ?? String(err));
  process.stderr.write(`${inCheckMode() ? 'fcgi check: ' : ''}the app did not start: ${text}\n`);
  process.exit(1);
}
