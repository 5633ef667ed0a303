// The whole-body shortcut of sendWebResponse() (a Response made from a string or bytes is sent from
// them, its stream unread) held to the stream path: the same generated bodies, once as they are and
// once behind a stream (which has no source), give the same bytes, status and headers through
// inject(); and a body already read, locked or cloned still goes out whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fetchResponder, type FetchApp } from '../http/fetch-handler.js';
import { inject } from './in-process.js';

type Body = string | Uint8Array;

/** The answer to GET /?stream=0|1: `body` as given, or the same body as a stream made from it. */
function appFor(body: Body, init: ResponseInit): FetchApp {
  return {
    fetch: (request) => {
      const direct = new Response(body, init);
      return new URL(request.url).searchParams.get('stream') === '1'
        ? new Response(direct.body, { status: direct.status, headers: direct.headers })
        : direct;
    },
  };
}

async function answer(app: FetchApp, stream: boolean) {
  const r = await inject(fetchResponder(app), `/?stream=${stream ? 1 : 0}`);
  return {
    status: r.status,
    type: r.headers.get('content-type'),
    cookies: r.headers.getSetCookie(),
    bytes: Buffer.from(await r.arrayBuffer()),
  };
}

describe('a Response made from a string or bytes', () => {
  it('goes out as the same bytes, status and headers as the same body streamed', async () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }), // lone surrogates included: both paths write U+FFFD
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.uint8Array({ maxLength: 70_000 }),
    );
    const init = fc.record({
      status: fc.constantFrom(200, 201, 299, 404, 500),
      headers: fc.constantFrom<Record<string, string> | [string, string][]>(
        {},
        { 'content-type': 'application/json' },
        [
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
        ],
      ),
    });
    await fc.assert(
      fc.asyncProperty(body, init, async (b, i) => {
        const app = appFor(b, i);
        assert.deepEqual(await answer(app, false), await answer(app, true));
      }),
      { numRuns: 150 },
    );
  });

  it("is sent without its stream being read (Node's fetch keeps the source where this looks)", async () => {
    for (const pick of [0, 1, 2]) {
      let response: Response | undefined;
      const one: FetchApp = {
        fetch: () => {
          response = [new Response('text'), Response.json({ a: 1 }), new Response(new Uint8Array([1, 2, 3]))][pick]!;
          return response;
        },
      };
      const r = await inject(fetchResponder(one), '/');
      assert.equal((await r.arrayBuffer()).byteLength > 0, true);
      // Read through a reader, the body would count as used.
      assert.equal(response!.bodyUsed, false, `answer ${pick} was sent from its source`);
    }
  });

  it('is read from its stream once the app read part of it: only what is left goes out', async () => {
    const text = 'x'.repeat(70_000) + 'y'.repeat(70_000);
    let taken = 0;
    const app: FetchApp = {
      fetch: async () => {
        const r = new Response(text);
        const reader = r.body!.getReader();
        taken = (await reader.read()).value!.length;
        reader.releaseLock();
        return r;
      },
    };
    const r = await inject(fetchResponder(app), '/');
    assert.equal(r.status, 200);
    assert.ok(taken > 0);
    assert.equal(await r.text(), text.slice(taken));
  });

  it('locked by the app: a 500, as the stream path answers it', async () => {
    const app: FetchApp = {
      fetch: () => {
        const r = new Response('text');
        r.body!.getReader();
        return r;
      },
    };
    const r = await inject(fetchResponder(app), '/', { stderr: () => {} });
    assert.equal(r.status, 500);
  });

  it('cloned: the original still goes out whole', async () => {
    const text = 'z'.repeat(100_000);
    const app: FetchApp = {
      fetch: () => {
        const r = new Response(text);
        void r.clone().text();
        return r;
      },
    };
    const r = await inject(fetchResponder(app), '/');
    assert.equal(await r.text(), text);
  });
});
