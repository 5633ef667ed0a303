// node-fastcgi 2 hello: its http-like server on argv[2] (a socket path or host:port), or fd 0.
const fcgi = require('node-fastcgi');

const server = fcgi.createServer((_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World\n');
});
const [, , where] = process.argv;
if (!where) server.listen();
else if (where.startsWith('/')) server.listen(where);
else server.listen(Number(where.split(':')[1]), where.split(':')[0]);
process.on('SIGTERM', () => process.exit(0));
