// What this process served, counted by every server in it: what status() reports and what the
// lifecycle watches (maxRequestsPerProcess, idleTimeout). Process-wide on purpose: recycling and
// idle exit are decisions about the process, whichever of its servers took the requests.
import type { RequestLoad } from '../connection/index.js';

/** A snapshot of one process's counters (a worker's, or the only process's). */
export interface ProcessStats {
  pid: number;
  /** Milliseconds since the epoch when the counters started (module load, about process start). */
  startedAt: number;
  /** Whole seconds since `startedAt`. */
  uptime: number;
  /** Requests taken since start (every BEGIN_REQUEST in a served role, refused ones included). */
  requests: number;
  /** Requests in flight now. */
  active: number;
  /** Connections from web servers open now. */
  connections: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Milliseconds since a request last started or ended (or since start). */
  idleMs: number;
}

export interface Counters {
  startedAt: number;
  requests: number;
  active: number;
  connections: number;
  connectionsTotal: number;
  lastActivity: number;
}

const counters: Counters = {
  startedAt: Date.now(),
  requests: 0,
  active: 0,
  connections: 0,
  connectionsTotal: 0,
  lastActivity: Date.now(),
};

type ActivityListener = (started: boolean) => void;
const listeners = new Set<ActivityListener>();

/** Calls `fn` after each request start (true) or end (false) in this process; returns the unsubscriber. */
export function onRequestActivity(fn: ActivityListener): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}

/** The live counters, read-only (no copy: the lifecycle reads them on every request). */
export function liveCounters(): Readonly<Counters> {
  return counters;
}

/** The counters as they are now. */
export function processStats(): ProcessStats {
  const now = Date.now();
  return {
    pid: process.pid,
    startedAt: counters.startedAt,
    uptime: Math.floor((now - counters.startedAt) / 1000),
    requests: counters.requests,
    active: counters.active,
    connections: counters.connections,
    connectionsTotal: counters.connectionsTotal,
    idleMs: counters.active > 0 ? 0 : now - counters.lastActivity,
  };
}

/**
 * A server's RequestLoad: the connection layer calls started() and finished() around each request;
 * both also keep the process counters and tell the activity listeners. Connections are counted
 * through it too.
 */
export class ServerLoad implements RequestLoad {
  readonly max: number;
  #active = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** This server's requests in flight. */
  get active(): number {
    return this.#active;
  }

  /** A request began: counted here and in the process counters; the listeners hear `true`. */
  started(): void {
    this.#active++;
    counters.active++;
    counters.requests++;
    for (const fn of listeners) fn(true);
  }

  /** A request ended: the listeners hear `false`. */
  finished(): void {
    this.#active--;
    counters.active--;
    // Idle time counts only while nothing is in flight: the clock is read when that begins.
    if (counters.active === 0) counters.lastActivity = Date.now();
    for (const fn of listeners) fn(false);
  }

  connectionOpened(): void {
    counters.connections++;
    counters.connectionsTotal++;
  }

  connectionClosed(): void {
    counters.connections--;
  }
}
