// The smallest @fcgi app: "Hello World" for every request.
// Run: FCGI_LISTEN=/tmp/hello.sock pnpm exec tsx examples/hello.ts
import { createFcgiServer } from '@fcgi/core';

const server = createFcgiServer((_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World\n');
});
const where = await server.listen();
console.error(`hello: listening on ${JSON.stringify(where)}`);
