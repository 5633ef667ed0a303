// @fcgi hello with the core handler. Listens on argv[2] (a socket path or host:port), or on what the
// host gives (fd 0 under mod_fcgid). No top-level await: scripts/bundle.mjs makes CommonJS of it.
import { createFcgiServer } from '@fcgi/core';

const server = createFcgiServer((_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World\n');
});
server.listen(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
// A normal exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0));
