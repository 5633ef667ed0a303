// Big downloads with the web server sending the file: res.sendFile() of BENCH_FILE with the
// X-Accel-Redirect offload (its directory mapped to nginx's internal location /_offload/, see
// bench/bodies.mjs and docs/sendfile-offload.md). Listens on argv[2].
import { basename, dirname } from 'node:path';
import { createApp, createFcgiServer } from '@fcgi/core';

const file = process.env.BENCH_FILE;
const app = createApp();
app.set('sendfile offload', { header: 'X-Accel-Redirect', map: { [dirname(file)]: '/_offload/' } });
app.use((_req, res) => res.sendFile(basename(file), { root: dirname(file) }));
createFcgiServer(app)
  .listen(process.argv[2])
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
process.on('SIGTERM', () => process.exit(0));
