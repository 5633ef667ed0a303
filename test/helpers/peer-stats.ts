// What the hostile-peer fault tests read of the app under attack (test/fixtures/hostile-peer-app.ts):
// its RSS from /proc/<pid>/status, and its own counters over a FastCGI request.
import { readFileSync } from 'node:fs';
import { fcgiGet } from './raw-client.js';

export const MiB = 2 ** 20;

/** Resident set size of process `pid` in bytes, read from outside it. */
export function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

export interface ServerStats {
  queued: number;
  connections: number;
  active: number;
}

/** The app's counters, asked on a fresh connection (which proves it still serves). */
export async function statsOf(socket: string): Promise<ServerStats> {
  const { status, body } = await fcgiGet(socket, '/stats', 5000);
  if (status !== 200) throw new Error(`/stats answered ${status}`);
  return JSON.parse(body.toString()) as ServerStats;
}
