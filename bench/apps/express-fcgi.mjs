// An unmodified Express 5 app (the same as express-nfc.cjs) served by @fcgi.
import express from 'express';
import { createFcgiServer } from '@fcgi/core';

const app = express();
app.get('/', (_req, res) => {
  res.type('text/plain').send('Hello World\n');
});
app.get('/json', (_req, res) => {
  res.json({ hello: 'world', id: 42, tags: ['a', 'b'] });
});
createFcgiServer(app)
  .listen(process.argv[2])
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
process.on('SIGTERM', () => process.exit(0));
