// For comparison with serve({ workers }): the @fcgi hello under plain node:cluster, BENCH_WORKERS
// (default 2) workers listening through cluster's own scheduling: BENCH_SCHED=rr (the primary
// accepts and sends each connection to a worker, Node's default) or none (the workers share the
// listening socket and the kernel picks who accepts).
import cluster from 'node:cluster';
import { createFcgiServer } from '@fcgi/core';

cluster.schedulingPolicy = process.env.BENCH_SCHED === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.BENCH_WORKERS ?? 2); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const server = createFcgiServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello World\n');
  });
  server.net.listen(process.argv[2]);
  process.on('SIGTERM', () => process.exit(0));
}
