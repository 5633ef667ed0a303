// The floor of a Node FastCGI responder with keep-conn off, for scale (bench/direct.mjs --app ... --keep-conn-off):
// a bare net.Server that answers the first chunk of each connection with a fixed response and end(). Not an app: no parsing.
import { createServer } from 'node:net';
const body = Buffer.from('Content-Type: text/plain\r\n\r\nHello World\n');
const server = createServer((s) => {
  s.once('data', (d) => {
    const id = d.readUInt16BE(2);
    const out = Buffer.alloc(8 + body.length + 8 + 16);
    out[0] = 1;
    out[1] = 6;
    out.writeUInt16BE(id, 2);
    out.writeUInt16BE(body.length, 4);
    body.copy(out, 8);
    let o = 8 + body.length;
    out[o] = 1;
    out[o + 1] = 6;
    out.writeUInt16BE(id, o + 2);
    o += 8;
    out[o] = 1;
    out[o + 1] = 3;
    out.writeUInt16BE(id, o + 2);
    out.writeUInt16BE(8, o + 4);
    s.end(out);
  });
  s.on('error', () => {});
});
server.listen(process.argv[2]);
process.on('SIGTERM', () => process.exit(0));
