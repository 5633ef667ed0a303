// The same as fcgi-files.mjs with Node's own http server (for nginx proxy_pass), on the unix
// socket path argv[2]: what a Node app behind a reverse proxy does with big bodies, for scale.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';

const file = process.env.BENCH_FILE;
createServer((req, res) => {
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c) => (n += c.length));
    req.on('end', () => res.end(`${n}\n`));
    return;
  }
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', statSync(file).size);
  createReadStream(file).pipe(res);
}).listen(process.argv[2]);
process.on('SIGTERM', () => process.exit(0));
