// The same unmodified Express 5 app as express-fcgi.mjs, served by node-fastcgi 2.
const express = require('express');
const fcgi = require('node-fastcgi');

const app = express();
app.get('/', (_req, res) => {
  res.type('text/plain').send('Hello World\n');
});
app.get('/json', (_req, res) => {
  res.json({ hello: 'world', id: 42, tags: ['a', 'b'] });
});
fcgi.createServer(app).listen(process.argv[2]);
process.on('SIGTERM', () => process.exit(0));
