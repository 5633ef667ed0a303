// In-process microbenchmarks of the wire format: @fcgi/core/protocol against fastcgi-stream (the
// parser node-fastcgi uses), each through its normal entry point. No sockets: the same bytes are
// fed in 64 KiB chunks, as a socket delivers them. Runnable alone: node bench/micro.mjs [--quick]
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  RecordParser,
  RecordType,
  encodeBeginRequest,
  encodeEndRequest,
  encodeNameValues,
  encodeStream,
  decodeNameValuesTo,
} from '@fcgi/core/protocol';
// The server's PARAMS string cache (internal to @fcgi/core: each FcgiServer has one).
import { ParamStrings } from '../packages/core/dist/protocol/param-strings.js';

const fcgiStream = createRequire(import.meta.url)('fastcgi-stream');
const R = fcgiStream.records;
const CHUNK = 65536;

function chunks(buf) {
  const out = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

/** What nginx sends for GET / with a few headers: BEGIN_REQUEST, PARAMS, empty PARAMS, empty STDIN. */
function nginxRequest() {
  const params = {
    QUERY_STRING: '',
    REQUEST_METHOD: 'GET',
    CONTENT_TYPE: '',
    CONTENT_LENGTH: '',
    SCRIPT_NAME: '/index',
    REQUEST_URI: '/index?x=1',
    DOCUMENT_URI: '/index',
    DOCUMENT_ROOT: '/usr/share/nginx/html',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_SCHEME: 'http',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'nginx/1.22.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '51234',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: '8080',
    SERVER_NAME: 'localhost',
    REDIRECT_STATUS: '200',
    HTTP_HOST: 'localhost',
    HTTP_USER_AGENT: 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0',
    HTTP_ACCEPT: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    HTTP_ACCEPT_LANGUAGE: 'en-US,en;q=0.5',
    HTTP_ACCEPT_ENCODING: 'gzip, deflate, br',
    HTTP_COOKIE: 'session=abcdef0123456789; theme=dark',
  };
  return Buffer.concat([
    encodeBeginRequest(1, 1, true),
    encodeStream(RecordType.PARAMS, 1, encodeNameValues(params)),
    encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)),
  ]);
}

/** Input streams: 16 MiB of 65535-byte STDIN records; 100-byte STDIN records; nginx-like requests. */
function inputs() {
  const big = Buffer.alloc(65535, 0x61);
  const small = Buffer.alloc(100, 0x62);
  const req = nginxRequest();
  return {
    large: {
      bytes: Buffer.concat(Array.from({ length: 256 }, () => encodeStream(RecordType.STDIN, 1, big, false))),
      records: 256,
      content: 256 * 65535,
    },
    small: {
      bytes: Buffer.concat(Array.from({ length: 20_000 }, () => encodeStream(RecordType.STDIN, 1, small, false))),
      records: 20_000,
      content: 20_000 * 100,
    },
    requests: { bytes: Buffer.concat(Array.from({ length: 5000 }, () => req)), records: 5000 * 4, requests: 5000 },
  };
}

/**
 * Ours: RecordParser; PARAMS fragments gathered and decoded at the empty record, as a connection
 * does (through a server's string cache, as a connection's decode goes). STDIN content arrives as
 * views of the chunk (no copy); with `copy`, the sink copies it.
 */
function ourParse(list, copy = false) {
  let content = 0;
  let requests = 0;
  let params = [];
  const strings = new ParamStrings();
  // Builds each request's environ, as a connection does.
  const sink = {
    out: {},
    pair(name, value) {
      this.out[name] = value;
    },
  };
  const parser = new RecordParser({
    record(type, _id, c) {
      if (type === RecordType.STDIN) content += copy ? Buffer.from(c).length : c.length;
      else if (type === RecordType.PARAMS) {
        if (c.length) params.push(c);
        else {
          sink.out = {};
          decodeNameValuesTo(params.length === 1 ? params[0] : Buffer.concat(params), sink, Infinity, strings);
          if (sink.out.REQUEST_METHOD) requests++;
          params = [];
        }
      }
    },
  });
  for (const c of list) parser.push(c);
  return { content, requests };
}

/** fastcgi-stream: its FastCGIStream on a stand-in socket (an emitter of 'data'); it decodes PARAMS itself. */
function theirParse(list) {
  let content = 0;
  let requests = 0;
  const socket = new EventEmitter();
  new fcgiStream.FastCGIStream(socket).on('record', (_id, r) => {
    if (r.TYPE === R.StdIn.TYPE) content += r.data.length;
    else if (r.TYPE === R.Params.TYPE && r.params.some(([n]) => n === 'REQUEST_METHOD')) requests++;
  });
  for (const c of list) socket.emit('data', c);
  return { content, requests };
}

const nullSocket = { write: () => true };

/** Encoding a response: `body` as STDOUT records (+ the empty one and END_REQUEST when `whole`). */
function ourEncode(body, whole) {
  if (!whole) return encodeStream(RecordType.STDOUT, 1, body, false).length;
  return encodeStream(RecordType.STDOUT, 1, body, true).length + encodeEndRequest(1, 0, 0).length;
}
function theirEncode(body, whole) {
  const s = new fcgiStream.FastCGIStream(Object.assign(new EventEmitter(), nullSocket));
  s.writeRecord(1, new R.StdOut(body));
  if (whole) {
    s.writeRecord(1, new R.StdOut());
    s.writeRecord(1, new R.EndRequest(0, 0));
  }
  return body.length;
}

/** Runs `fn` repeatedly for about `ms`; the median over `runs` of calls per second. */
function rate(fn, ms, runs) {
  const rates = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    do {
      fn();
      n++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    } while (elapsed < ms);
    rates.push((n * 1000) / elapsed);
  }
  return rates.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

export function runMicro({ quick = false, log = () => {} } = {}) {
  const ms = quick ? 300 : 1500;
  const runs = quick ? 3 : 5;
  const input = inputs();
  const out = {};
  for (const [name, inp] of Object.entries(input)) {
    const list = chunks(inp.bytes);
    const a = ourParse(list);
    const b = theirParse(list);
    // Both must have seen everything: every STDIN byte, every request's params.
    const want = { content: inp.content ?? 0, requests: inp.requests ?? 0 };
    for (const got of [a, b]) {
      if (got.content !== want.content || got.requests !== want.requests)
        throw new Error(`${name}: parsed ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    rate(() => ourParse(list), ms / 3, 1); // warm-up
    rate(() => theirParse(list), ms / 3, 1);
    const ours = rate(() => ourParse(list), ms, runs);
    const theirs = rate(() => theirParse(list), ms, runs);
    out[`parse-${name}`] = {
      ours: { perSec: ours * inp.records, mbps: (ours * (inp.content ?? inp.bytes.length)) / 1e6 },
      theirs: { perSec: theirs * inp.records, mbps: (theirs * (inp.content ?? inp.bytes.length)) / 1e6 },
      unit: 'records/s',
    };
    if (name === 'large') {
      const copied = rate(() => ourParse(list, true), ms, runs);
      out['parse-large-copy'] = {
        ours: { perSec: copied * inp.records, mbps: (copied * inp.content) / 1e6 },
        unit: 'records/s',
      };
    }
    log(
      `  parse ${name}: ours ${fmt(ours * inp.records)} records/s, fastcgi-stream ${fmt(theirs * inp.records)} records/s`,
    );
  }
  const bodies = {
    large: [Buffer.alloc(65535, 0x63), false],
    small: [Buffer.from('Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nHello World\n'), true],
  };
  for (const [name, [body, whole]] of Object.entries(bodies)) {
    const records = whole ? 3 : 1;
    rate(() => ourEncode(body, whole), ms / 3, 1);
    rate(() => theirEncode(body, whole), ms / 3, 1);
    const ours = rate(() => ourEncode(body, whole), ms, runs);
    const theirs = rate(() => theirEncode(body, whole), ms, runs);
    out[`encode-${name}`] = {
      ours: { perSec: ours * records, mbps: (ours * body.length) / 1e6 },
      theirs: { perSec: theirs * records, mbps: (theirs * body.length) / 1e6 },
      unit: 'records/s',
    };
    log(`  encode ${name}: ours ${fmt(ours * records)} records/s, fastcgi-stream ${fmt(theirs * records)} records/s`);
  }
  return out;
}

function fmt(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runMicro({ quick: process.argv.includes('--quick'), log: console.log });
  for (const [k, v] of Object.entries(r)) {
    console.log(
      k,
      `ours ${v.ours.mbps.toFixed(0)} MB/s`,
      v.theirs
        ? `fastcgi-stream ${v.theirs.mbps.toFixed(0)} MB/s x${(v.ours.perSec / v.theirs.perSec).toFixed(1)}`
        : '',
    );
  }
}
