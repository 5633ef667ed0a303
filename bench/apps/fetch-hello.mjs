// @fcgi hello as a Web-standard fetch app (Request in, Response out), served by createFcgiServer
// as fcgi-hello.mjs serves its (req, res) handler, to compare the two paths' cost per request.
// Listens on argv[2] (a socket path or host:port), or on what the host gives (fd 0 under mod_fcgid).
import { createFcgiServer } from '@fcgi/core';

const server = createFcgiServer({
  fetch: () => new Response('Hello World\n', { headers: { 'content-type': 'text/plain' } }),
});
server.listen(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
// A normal exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0));
