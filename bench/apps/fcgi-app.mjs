// @fcgi with the framework: createApp() with @fcgi/router's matcher. GET / answers hello, GET /json a small
// object through res.json().
import { createApp, createFcgiServer } from '@fcgi/core';
import { patterns } from '@fcgi/router';

const app = createApp({ matcher: patterns });
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
