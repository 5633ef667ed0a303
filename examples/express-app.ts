// An existing Express 5 app served over FastCGI by @fcgi. Everything down to the last lines is
// plain Express; only `app.listen(3000)` became `serve(app)`, which serves the app the way the
// host asks: a listening socket on fd 0 (mod_fcgid, spawn-fcgi), FCGI_LISTEN, a CGI environment,
// or else the built-in HTTP gateway on http://127.0.0.1:3000 for development.
// Run: pnpm exec tsx examples/express-app.ts            (then open http://127.0.0.1:3000)
//  or: FCGI_LISTEN=/tmp/express.sock pnpm exec tsx examples/express-app.ts   (behind nginx)
import express, { type ErrorRequestHandler } from 'express';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@fcgi/core';

const here = dirname(fileURLToPath(import.meta.url));
const app = express();
app.use(express.json({ limit: '100kb' }));
app.use(express.urlencoded({ extended: false }));

// A small notes API on its own router.
interface Note {
  id: number;
  text: string;
}
const notes: Note[] = [];
const api = express.Router();
api.get('/notes', (_req, res) => {
  res.json(notes);
});
api.post('/notes', (req, res) => {
  const text = req.body?.text;
  if (typeof text !== 'string' || !text) {
    res.status(400).json({ error: 'a non-empty "text" is required' });
    return;
  }
  const note = { id: notes.length + 1, text };
  notes.push(note);
  res.status(201).location(`/api/notes/${note.id}`).json(note);
});
api.get('/notes/:id', (req, res, next) => {
  const note = notes.find((n) => n.id === Number(req.params.id));
  if (note) res.json(note);
  else next(); // on to the 404 below
});
app.use('/api', api);

// What Express knows about the client: from the web server's params, via req.socket.
app.get('/whoami', (req, res) => {
  res.json({
    ip: req.ip,
    protocol: req.protocol,
    secure: req.secure,
    hostname: req.hostname,
    userAgent: req.get('user-agent') ?? null,
  });
});
app.get('/visit', (req, res) => {
  const visits = Number(/(?:^|; )visits=(\d+)/.exec(req.get('cookie') ?? '')?.[1] ?? 0) + 1;
  res.cookie('visits', String(visits), { httpOnly: true, sameSite: 'lax' }).send(`visit number ${visits}\n`);
});
app.get('/old-home', (_req, res) => res.redirect(301, '/'));
app.get('/fail', () => {
  throw new Error('something broke');
});
// The example's own source, as static files.
app.use('/source', express.static(here, { index: false }));
app.get('/', (_req, res) => {
  res.type('html').send(`<!doctype html><meta charset="utf-8"><title>Express over FastCGI</title>
<h1>An Express 5 app, served by @fcgi</h1>
<ul><li><a href="/api/notes">GET /api/notes</a> (POST JSON {"text": "..."} to add one)</li>
<li><a href="/whoami">/whoami</a></li><li><a href="/visit">/visit</a> (a cookie)</li>
<li><a href="/source/express-app.ts">this app's source</a> (express.static)</li>
<li><a href="/fail">/fail</a> (the error handler)</li></ul>
`);
});

app.use((req, res) => {
  res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
});
const onError: ErrorRequestHandler = (err, req, res, _next) => {
  console.error(`${req.method} ${req.originalUrl}:`, err); // the process's stderr
  res.status(err.status ?? 500).json({ error: err.expose ? err.message : 'internal error' });
};
app.use(onError);

// The @fcgi part. An Express app is a (req, res) function; @fcgi's req/res stand in for
// node:http's objects, which the types cannot express, hence the cast.
const serving = await serve(app);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void serving.close().then(() => process.exit(0)));
}
