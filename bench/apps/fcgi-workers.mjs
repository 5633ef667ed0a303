// @fcgi hello served by serve({ workers }): a primary holding the socket and BENCH_WORKERS (default
// 2) worker processes. The primary's lifecycle handles SIGTERM (drains the workers, then exits).
// `/__bench/status` is status(): the bench reads each worker's request count from it.
import { serve, status } from '@fcgi/core';

const statusPage = status({ path: '/__bench/status', pingPath: false });

serve(
  (req, res) => {
    if (req.url.startsWith('/__bench/')) return statusPage(req, res);
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello World\n');
  },
  { target: process.argv[2], workers: Number(process.env.BENCH_WORKERS ?? 2) },
).catch((err) => {
  console.error(err);
  process.exit(1);
});
