// wrk as the load generator: one thread, `connections` connections, for `seconds`.
import { run } from './proc.mjs';

export const WRK = '/usr/bin/wrk';

function unit(n, u) {
  return Number(n) * ({ us: 1e-3, ms: 1, s: 1000, m: 60_000 }[u] ?? 1);
}

/** Runs wrk against `url`; resolves { rps, requests, errors, p50, p99 } (latencies in ms). */
export async function wrk(url, { seconds, connections = 50 }) {
  const r = await run(WRK, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], {
    ms: (seconds + 30) * 1000,
  });
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr}${r.stdout}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  if (!Number.isFinite(rps)) throw new Error(`no Requests/sec in wrk's output: ${r.stdout}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout);
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const lat = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(r.stdout);
    return m ? unit(m[1], m[2]) : NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1] ?? NaN);
  return { rps, requests, errors, p50: lat(50), p99: lat(99) };
}
