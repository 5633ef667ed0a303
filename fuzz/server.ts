// The app the fuzzer attacks: a real FcgiServer on a unix socket in a fresh temp dir, with handlers
// that read, ignore, stream, throw, stall and never end (see ROUTES in inputs.ts).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type FcgiServer } from '@fcgi/core';
import { drainOrClose } from '../test/helpers/drain.js';
import { FUZZ_LIMITS } from './inputs.js';

export interface FuzzServer {
  server: FcgiServer;
  path: string;
  /** Protocol errors the server reported (each closed one connection). */
  protocolErrors: number;
  handlerErrors: number;
  stop(): Promise<void>;
}

const CHUNK = Buffer.alloc(1000, '0123456789');
const BIG = Buffer.alloc(300 * 1024, 'abcdefgh');

async function handle(req: FcgiRequest, res: FcgiResponse): Promise<void> {
  const route = req.path;
  res.setHeader('Content-Type', 'text/plain');
  switch (route) {
    case '/echo': {
      const hash = createHash('sha1');
      let len = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        hash.update(chunk);
        len += chunk.length;
      }
      res.end(`${len} ${hash.digest('hex')}`);
      return;
    }
    case '/hello':
      res.end('hello');
      return;
    case '/stream': {
      const n = Number(req.headers['x-chunks']) || 0;
      for (let i = 0; i < n && !res.destroyed; i++) {
        if (!res.write(CHUNK)) await drainOrClose(res);
      }
      res.end();
      return;
    }
    case '/big':
      res.end(BIG);
      return;
    case '/json': {
      const value = await req.json({ limit: 100_000 });
      res.end(JSON.stringify(value));
      return;
    }
    case '/throw':
      throw new Error('fuzz: thrown');
    case '/reject':
      await Promise.resolve();
      throw new Error('fuzz: rejected');
    case '/late-throw':
      res.write('partial');
      throw new Error('fuzz: thrown after the headers');
    case '/slow':
      await new Promise((r) => setTimeout(r, 1 + (req.url.length % 20)));
      res.end('slow');
      return;
    case '/never':
      return; // ends by ABORT_REQUEST, the connection closing, or requestTimeout
    default:
      res.statusCode = 404;
      res.end('no such route');
  }
}

/** Starts the fuzz app; `stop()` closes it and removes the temp dir. */
export async function startFuzzServer(): Promise<FuzzServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-fuzz-'));
  const path = join(dir, 'app.sock');
  const state = { protocolErrors: 0, handlerErrors: 0 };
  const server = createFcgiServer(handle, {
    ...FUZZ_LIMITS,
    onConnectionError: (err) => {
      state.protocolErrors++;
      if (process.env.FUZZ_VERBOSE) console.error(`server: ${err.stack}`);
    },
    onHandlerError: (err) => {
      state.handlerErrors++;
      if (process.env.FUZZ_VERBOSE) console.error(`handler: ${err.stack}`);
    },
  });
  await server.listenOn({ kind: 'unix', path });
  return {
    server,
    path,
    get protocolErrors() {
      return state.protocolErrors;
    },
    get handlerErrors() {
      return state.handlerErrors;
    },
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
