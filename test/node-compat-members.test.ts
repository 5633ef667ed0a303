// Every member of Node's own http.IncomingMessage, http.ServerResponse (with OutgoingMessage) and
// net.Socket, listed from the real classes at run time (instances' own properties and the
// prototypes' names), is either on ours (req, res, req.socket) or named below as absent with the
// reason: a member a new Node version adds fails this test until docs/node-compat.md and the
// lists here say what becomes of it. Names starting with `_` are Node's internals and left out.
import assert from 'node:assert/strict';
import { IncomingMessage, OutgoingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Duplex, Readable, Stream, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { inject, type NodeHandler } from '@fcgi/core';

const NO_CONNECTION = "the client's connection is the web server's: the app never reads, writes or dials it";

/** IncomingMessage members ours does not have, and why. */
const REQUEST_ABSENT: Record<string, string> = {
  statusCode: 'set on the responses an http client receives, never on a server request',
  statusMessage: 'set on the responses an http client receives, never on a server request',
  client: 'an undocumented old alias of `socket`',
  joinDuplicateHeaders: 'a copy of an http.createServer() option; the web server already joined repeated headers',
  upgrade: 'no upgrades pass FastCGI: an Upgrade request arrives as a plain request (see res.writeHead(101))',
};

/** ServerResponse / OutgoingMessage members ours does not have, and why. */
const RESPONSE_ABSENT: Record<string, string> = {
  chunkedEncoding: 'never chunked: the web server frames the body to the client',
  useChunkedEncodingByDefault: 'never chunked: the web server frames the body to the client',
  shouldKeepAlive: "keep-alive is the web server's, on its own connection to the client",
  maxRequestsOnConnectionReached: "keep-alive is the web server's, on its own connection to the client",
  sendDate: 'the web server sends Date',
  outputData: "node:http's queue of unsent output; ours goes straight to the sink",
  outputSize: "node:http's queue of unsent output; ours goes straight to the sink",
  assignSocket: "node:http's server attaches sockets; there is none to attach",
  detachSocket: "node:http's server attaches sockets; there is none to attach",
};

/** net.Socket members the stand-in socket does not have: it is not a stream. */
const SOCKET_ABSENT: Record<string, string> = Object.fromEntries(
  [
    // Connecting and its state.
    ...['connect', 'connecting', 'pending', 'readyState', 'server', 'allowHalfOpen', 'destroySoon', 'resetAndDestroy'],
    // Counters of the connection's bytes.
    ...['bytesRead', 'bytesWritten', 'bufferSize'],
    // Writable side.
    ...['write', 'end', 'setDefaultEncoding', 'writableHighWaterMark', 'writableObjectMode', 'writableBuffer'],
    ...['writableFinished', 'writableCorked', 'writableEnded', 'writableNeedDrain', 'writableAborted'],
    // Readable side.
    ...['read', 'push', 'unshift', 'pause', 'resume', 'isPaused', 'setEncoding', 'pipe', 'unpipe', 'wrap'],
    ...['iterator', 'readableDidRead', 'readableAborted', 'readableHighWaterMark', 'readableBuffer'],
    ...['readableFlowing', 'readableLength', 'readableObjectMode', 'readableEncoding', 'readableEnded'],
    ...['errored', 'closed'],
    // Readable's iterator helpers.
    ...['asIndexedPairs', 'drop', 'filter', 'flatMap', 'map', 'take', 'compose', 'every', 'forEach'],
    ...['reduce', 'toArray', 'some', 'find'],
  ].map((name) => [name, NO_CONNECTION]),
);

const protoNames = (...protos: object[]) => protos.flatMap((p) => Object.getOwnPropertyNames(p));
const publicNames = (names: string[]) =>
  [...new Set(names)].filter((n) => n !== 'constructor' && !n.startsWith('_')).sort();

function nodeMembers() {
  const socket = new Socket();
  const req = new IncomingMessage(socket);
  const res = new ServerResponse(req);
  return {
    request: publicNames([...Object.keys(req), ...protoNames(IncomingMessage.prototype, Readable.prototype)]),
    response: publicNames([
      ...Object.keys(res),
      ...protoNames(ServerResponse.prototype, OutgoingMessage.prototype, Stream.prototype),
    ]),
    socket: publicNames([
      ...Object.keys(socket),
      ...protoNames(Socket.prototype, Duplex.prototype, Readable.prototype, Writable.prototype),
    ]),
  };
}

/** Our req, res and req.socket, from a real request through inject(). */
async function ours(): Promise<{ request: object; response: object; socket: object }> {
  let got: { request: object; response: object; socket: object } | undefined;
  await inject(
    ((req: IncomingMessage, res: ServerResponse) => {
      got = { request: req, response: res, socket: req.socket };
      res.end();
    }) as NodeHandler,
    '/',
  );
  assert.ok(got);
  return got;
}

describe("Node's http members, each on ours or named absent with its reason", () => {
  const cases = [
    ['IncomingMessage', 'request', REQUEST_ABSENT],
    ['ServerResponse / OutgoingMessage', 'response', RESPONSE_ABSENT],
    ['net.Socket (req.socket)', 'socket', SOCKET_ABSENT],
  ] as const;
  for (const [label, key, absent] of cases) {
    it(label, async () => {
      const node = nodeMembers()[key];
      const mine = (await ours())[key];
      assert.ok(node.length > 20, `Node's ${label} lists ${node.length} members`);
      const unaccounted = node.filter((name) => !(name in mine) && !(name in absent));
      assert.deepEqual(unaccounted, [], `members of ${label} neither on ours nor listed absent`);
      // The absent list stays true: nothing listed there is on ours or gone from Node.
      for (const name of Object.keys(absent)) {
        assert.ok(!(name in mine), `${name} is listed absent but ours has it`);
        assert.ok(node.includes(name), `${name} is listed absent but Node's ${label} has no such member`);
        assert.ok(absent[name]!.length > 10, `a reason for ${name}`);
      }
    });
  }
});
