// status(): a status page and a ping for monitoring, as PHP-FPM's pm.status_path and ping.path.
// The numbers are per process (stats.ts); under serve({ workers }) the worker that answers
// asks the primary for every worker's, so the page shows the whole pool and its totals.
import { httpError } from '../errors.js';
import { answerError, type FcgiRequest, type FcgiResponse } from '../http/index.js';
import type { ClusterStatus } from './cluster-ipc.js';
import { processStats, type ProcessStats } from './stats.js';
import { requestClusterStatus } from './worker.js';

export interface StatusOptions {
  /** Path of the status page; false: none. Default '/status'. */
  path?: string | false;
  /** Path answering `pingResponse` (200, text/plain); false: none. Default '/ping'. */
  pingPath?: string | false;
  /** Default 'pong'. */
  pingResponse?: string;
}

/** What the status page says (its JSON form). */
export interface StatusReport {
  /** The process that answered. */
  pid: number;
  /** 'cluster' under serve({ workers }), else 'single'. */
  mode: 'single' | 'cluster';
  /** ISO time the pool (the primary, or the only process) started. */
  startTime: string;
  /** Seconds since then. */
  uptime: number;
  /** Totals over the workers below. */
  requests: number;
  active: number;
  connections: number;
  connectionsTotal: number;
  /** Workers started to replace one that exited or recycled itself (cluster only, else 0). */
  restarts: number;
  workers: (ProcessStats & { startTime: string })[];
}

type Next = (err?: unknown) => void;

function sum(list: readonly ProcessStats[], key: 'requests' | 'active' | 'connections' | 'connectionsTotal'): number {
  return list.reduce((n, w) => n + w[key], 0);
}

/** Builds the report: every worker of the pool when in one (and the primary answered), else this process. */
export async function statusReport(): Promise<StatusReport> {
  const cluster: ClusterStatus | null = await requestClusterStatus();
  const local = processStats();
  const list = cluster && cluster.workers.length > 0 ? cluster.workers : [local];
  const started = cluster ? cluster.primary.startedAt : local.startedAt;
  return {
    pid: process.pid,
    mode: cluster ? 'cluster' : 'single',
    startTime: new Date(started).toISOString(),
    uptime: Math.floor((Date.now() - started) / 1000),
    requests: sum(list, 'requests'),
    active: sum(list, 'active'),
    connections: sum(list, 'connections'),
    connectionsTotal: sum(list, 'connectionsTotal'),
    restarts: cluster?.primary.restarts ?? 0,
    workers: list.map((w) => ({ ...w, startTime: new Date(w.startedAt).toISOString() })),
  };
}

function line(name: string, value: string | number): string {
  return `${(name + ':').padEnd(22)}${value}\n`;
}

/** The plain-text page, laid out like PHP-FPM's. */
export function formatStatus(r: StatusReport): string {
  let out =
    line('mode', r.mode) +
    line('start time', r.startTime) +
    line('start since', r.uptime) +
    line('accepted requests', r.requests) +
    line('active requests', r.active) +
    line('open connections', r.connections) +
    line('accepted connections', r.connectionsTotal) +
    line('workers', r.workers.length) +
    line('restarts', r.restarts);
  for (const w of r.workers) {
    out +=
      '\n' +
      line('pid', w.pid) +
      line('start time', w.startTime) +
      line('start since', w.uptime) +
      line('requests', w.requests) +
      line('active requests', w.active) +
      line('open connections', w.connections) +
      line('idle ms', w.idleMs);
  }
  return out;
}

function wantsJson(req: FcgiRequest, query: string): boolean {
  if (/(^|&)json(=|&|$)/.test(query)) return true;
  const accept = String(req.headers.accept ?? '');
  return accept.includes('application/json') && !accept.includes('text/plain');
}

/**
 * Middleware (or a whole handler) answering `path` with the status page (plain text; JSON with
 * `?json` or `Accept: application/json`) and `pingPath` with `pong`; other requests go to `next`
 * (404 without one). Restrict who may reach it in the web server, as with PHP-FPM's.
 */
export function status(
  options: StatusOptions = {},
): (req: FcgiRequest, res: FcgiResponse, next?: Next) => Promise<void> {
  const path = options.path ?? '/status';
  const pingPath = options.pingPath ?? '/ping';
  const pong = options.pingResponse ?? 'pong';
  return async (req, res, next) => {
    const q = req.url.indexOf('?');
    const pathname = q < 0 ? req.url : req.url.slice(0, q);
    const query = q < 0 ? '' : req.url.slice(q + 1);
    const isStatus = path !== false && pathname === path;
    const isPing = pingPath !== false && pathname === pingPath;
    if (!isStatus && !isPing) {
      if (next) return next();
      return answerError(req, res, undefined, { env: 'production' });
    }
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return answerError(req, res, httpError(405, 'Method Not Allowed', { headers: { Allow: 'GET, HEAD' } }), {
        env: 'production',
      });
    }
    if (isPing) {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      return void res.end(pong);
    }
    const report = await statusReport();
    if (wantsJson(req, query)) {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(report) + '\n');
    } else {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(formatStatus(report));
    }
  };
}
