// How a bundled app starts (`fcgi bundle` calls startBundledApp with the app's code): load it, and
// when loading fails under a web server (a throw in module code, a rejected top-level await) log
// why and answer with the production 500 page, instead of leaving the server waiting on a process
// that never listens.
import { isCgiEnvironment } from '../cgi/index.js';
import { answerError } from '../http/error-answer.js';
import type { FcgiRequest, FcgiResponse } from '../http/index.js';
import { logProcessLine } from '../http/log-line.js';
import { serve } from '../serve.js';
import { hasListeningSocketOnFd0, isClusterWorker } from '../server/index.js';

/** A process whose app failed to load, with nothing to do, exits after this long (env FCGI_IDLE_TIMEOUT). */
const FAILED_IDLE_MS = 60_000;

/**
 * Runs `load` (the app's entry, imported lazily). Started by a web server, a failure to load is
 * logged (time, pid, the stack) and then served: every request gets the production 500 page until
 * the file is replaced (the restart check), restart.txt is touched, or the process is idle for a
 * minute; as CGI the one request gets it. Run by hand (no web server) the error is thrown on: Node
 * prints it with its stack and the process exits 1, as without a bundle.
 */
export async function startBundledApp(load: () => Promise<unknown>): Promise<void> {
  // Steps before the load go here (`--check`, the fcgi.env file: branch doctor).
  try {
    await load();
  } catch (err) {
    await serveLoadFailure(err);
  }
}

/** Answers every request with `err` through serve() and the one error renderer; rethrows it by hand. */
async function serveLoadFailure(err: unknown): Promise<void> {
  const cgi = isCgiEnvironment();
  if (!cgi && !isClusterWorker() && !hasListeningSocketOnFd0() && !process.env.FCGI_LISTEN) throw err;
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  const then = cgi
    ? 'this request gets a 500'
    : 'every request gets a 500 until the file changes (or restart.txt is touched)';
  logProcessLine(`fcgi: the app failed to load; ${then}: ${stack}`);
  const failed = (req: FcgiRequest, res: FcgiResponse): void =>
    answerError(req, res, err, { env: 'production', fallback: 'html' });
  await serve(failed, process.env.FCGI_IDLE_TIMEOUT ? {} : { idleTimeout: FAILED_IDLE_MS });
}
