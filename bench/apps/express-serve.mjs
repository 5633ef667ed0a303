// An unmodified Express 5 app served by serve(): FastCGI on what the host gives, or one CGI request.
import express from 'express';
import { serve } from '@fcgi/core';

const app = express();
app.get('/', (_req, res) => {
  res.type('text/plain').send('Hello World\n');
});
app.get('/json', (_req, res) => {
  res.json({ hello: 'world', id: 42, tags: ['a', 'b'] });
});
await serve(app);
