// createApp() with @fcgi/router's matcher and app.listen(): GET / answers hello, GET /json a small
// object through res.json(). FastCGI on what the host gives, or one CGI request.
import { createApp } from '@fcgi/core';
import { patterns } from '@fcgi/router';

const app = createApp({ matcher: patterns });
app.get('/', (_req, res) => {
  res.type('text/plain').send('Hello World\n');
});
app.get('/json', (_req, res) => {
  res.json({ hello: 'world', id: 42, tags: ['a', 'b'] });
});
await app.listen();
