// The demo app (`npm start`): middleware, a signed-cookie visit counter, static assets, a JSON API
// on @fcgi/router, and what the web server sent (the params, the query, a form POST).
// With nothing given by the host it runs behind the built-in HTTP gateway on http://127.0.0.1:3000;
// the same file runs under nginx/Apache (FCGI_LISTEN, fd 0) or as a CGI script.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, json, urlencoded, type AppRequest, type AppResponse } from '@fcgi/core';
import { Router, patterns } from '@fcgi/router';
import { serveStatic } from '@fcgi/static';

const here = dirname(fileURLToPath(import.meta.url));
const app = createApp({ matcher: patterns });
app.set('cookie secret', process.env.DEMO_SECRET ?? 'demo secret: set DEMO_SECRET in production');

const escapeHtml = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(rows: Record<string, unknown>): string {
  return (
    '<table>' +
    Object.keys(rows)
      .sort()
      .map(
        (k) =>
          `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(Array.isArray(rows[k]) ? (rows[k] as unknown[]).join(', ') : rows[k])}</td></tr>`,
      )
      .join('') +
    '</table>'
  );
}

// Middleware: a timing header on every response, set just before the headers go out.
app.use((_req, res, next) => {
  const start = process.hrtime.bigint();
  const writeHead = res.writeHead;
  res.writeHead = function (this: AppResponse, ...args: Parameters<AppResponse['writeHead']>) {
    this.setHeader('Server-Timing', `app;dur=${Number(process.hrtime.bigint() - start) / 1e6}`);
    return writeHead.apply(this, args);
  } as AppResponse['writeHead'];
  next();
});

app.use('/assets', serveStatic(join(here, 'demo-public'), { maxAge: '1h' }));
app.use(urlencoded({ limit: '64kb' }));
app.use(json({ limit: '64kb' }));

// A visit counter in a signed cookie: tampering with it resets the count.
app.use((req, res, next) => {
  const seen = Number(req.signedCookies.visits) || 0;
  res.locals.visits = seen + 1;
  res.cookie('visits', String(seen + 1), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    maxAge: 30 * 24 * 3600 * 1000,
  });
  next();
});

// The JSON API: notes kept in memory (bounded), and the environ.
const api = Router();
const notes: { id: number; text: string }[] = [];
let nextId = 1;
api.get('/environ', (req, res) => {
  res.json({ method: req.method, url: req.originalUrl, query: req.query, environ: req.environ });
});
api.get('/notes', (_req, res) => res.json(notes));
api.get('/notes/:id', (req, res) => {
  const note = notes.find((n) => n.id === Number(req.params.id));
  if (note) res.json(note);
  else res.status(404).json({ error: `no note ${req.params.id}` });
});
api.post('/notes', (req, res) => {
  const text = typeof req.body?.text === 'string' ? req.body.text.slice(0, 500) : '';
  if (!text) return void res.status(400).json({ error: 'send {"text": "..."}' });
  const note = { id: nextId++, text };
  notes.push(note);
  if (notes.length > 100) notes.shift();
  res.status(201).location(`/api/notes/${note.id}`).json(note);
});
app.use('/api', api);

function page(req: AppRequest, res: AppResponse, posted = ''): void {
  res.type('html').send(`<!doctype html><meta charset="utf-8"><title>@fcgi demo</title>
<link rel="stylesheet" href="/assets/style.css">
<h1>@fcgi demo</h1>
<p class="visits">Visit number ${res.locals.visits} from this browser (a signed cookie).</p>
<p>${escapeHtml(req.method)} <code>${escapeHtml(req.originalUrl)}</code> over FastCGI.
Try <a href="/hello?name=you&amp;n=1&amp;n=2">a query</a>, <a href="/api/environ?x=1">the JSON view</a>
or <a href="/api/notes">the notes API</a>.</p>
<form method="post" action="/form"><input name="name" placeholder="name"> <input name="message" placeholder="message">
<button>POST it</button></form>
${posted}
<h2>Query</h2>${table(req.query)}
<h2>Headers</h2>${table(req.headers)}
<h2>Environ (the FastCGI params)</h2>${table(req.environ)}
`);
}

app.post('/form', (req, res) => page(req, res, `<h2>You posted</h2>${table(req.body ?? {})}`));
app.get('/favicon.ico', (_req, res) => void res.sendStatus(404));
app.get('/{*path}', (req, res) => page(req, res));

const serving = await app.listen();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void serving.close().then(() => process.exit(0)));
}
