// The demo app (`npm start`): what the core shows today — the params, the query, a form POST.
// With nothing given by the host it runs behind the built-in HTTP gateway on http://127.0.0.1:3000;
// the same file runs under nginx/Apache (FCGI_LISTEN, fd 0) or as a CGI script.
import { serve, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { parse } from 'node:querystring';

const escape = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(rows: Record<string, unknown>): string {
  return '<table>' + Object.keys(rows).sort().map((k) =>
    `<tr><th>${escape(k)}</th><td>${escape(Array.isArray(rows[k]) ? (rows[k] as unknown[]).join(', ') : rows[k])}</td></tr>`,
  ).join('') + '</table>';
}

async function demo(req: FcgiRequest, res: FcgiResponse): Promise<void> {
  if (req.path === '/favicon.ico') {
    res.statusCode = 404;
    return void res.end();
  }
  if (req.path === '/api/environ') {
    res.setHeader('Content-Type', 'application/json');
    return void res.end(JSON.stringify({ method: req.method, url: req.url, query: req.query, environ: req.environ }));
  }
  let posted = '';
  if (req.method === 'POST') {
    const form = parse(await req.text({ limit: 64 * 1024 }));
    posted = `<h2>You posted</h2>${table(form)}`;
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><meta charset="utf-8"><title>@fcgi demo</title>
<style>body{font:15px system-ui;margin:2em;max-width:60em}th{text-align:left;padding-right:1em;vertical-align:top}
td{font-family:monospace;word-break:break-all}table{border-collapse:collapse}tr:nth-child(odd){background:#f4f4f4}</style>
<h1>@fcgi demo</h1>
<p>${escape(req.method)} <code>${escape(req.url)}</code> over FastCGI.
Try <a href="/hello?name=you&amp;n=1&amp;n=2">a query</a> or <a href="/api/environ?x=1">the JSON view</a>.</p>
<form method="post" action="/form"><input name="name" placeholder="name"> <input name="message" placeholder="message">
<button>POST it</button></form>
${posted}
<h2>Query</h2>${table(req.query)}
<h2>Headers</h2>${table(req.headers)}
<h2>Environ (the FastCGI params)</h2>${table(req.environ)}
`);
}

const serving = await serve(demo);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void serving.close().then(() => process.exit(0)));
}
