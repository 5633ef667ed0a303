// Big bodies through @fcgi: GET streams the file named by BENCH_FILE, POST reads the whole body
// (discarding it) and answers its length. Listens on argv[2].
import { createReadStream, statSync } from 'node:fs';
import { createFcgiServer } from '@fcgi/core';

const file = process.env.BENCH_FILE;
const server = createFcgiServer((req, res) => {
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c) => (n += c.length));
    req.on('end', () => res.end(`${n}\n`));
    return;
  }
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', statSync(file).size);
  createReadStream(file).pipe(res);
});
server.listen(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
