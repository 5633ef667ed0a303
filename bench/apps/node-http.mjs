// Node's own http server, for nginx proxy_pass: on argv[2], a unix socket path or host:port.
import { createServer } from 'node:http';

const server = createServer((_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World\n');
});
const where = process.argv[2];
if (where.startsWith('/')) server.listen(where);
else server.listen(Number(where.split(':')[1]), where.split(':')[0]);
process.on('SIGTERM', () => process.exit(0));
