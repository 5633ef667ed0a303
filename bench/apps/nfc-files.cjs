// The same as fcgi-files.mjs, served by node-fastcgi 2.
const { createReadStream, statSync } = require('node:fs');
const fcgi = require('node-fastcgi');

const file = process.env.BENCH_FILE;
fcgi
  .createServer((req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c) => (n += c.length));
      req.on('end', () => res.end(`${n}\n`));
      return;
    }
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    createReadStream(file).pipe(res);
  })
  .listen(process.argv[2]);
process.on('SIGTERM', () => process.exit(0));
