// A fetch app run in process through inject(): a Request through both halves of the one conversion
// (http/web.ts) and back, for the cases the end-to-end test does not reach: HTTPS URLs, HEAD and
// null-body statuses, reasons, a non-Response answer, a body failing after the head, an abort.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchResponder, type FetchApp } from '../http/fetch-handler.js';
import { inject } from './in-process.js';

const quiet = { stderr: () => {} };

describe('a fetch app through inject()', () => {
  it('sees the https URL the client asked for, headers and a body', async () => {
    const app: FetchApp = {
      fetch: async (request) =>
        Response.json({
          url: request.url,
          method: request.method,
          h: request.headers.get('x-a'),
          body: await request.text(),
        }),
    };
    const r = await inject(fetchResponder(app), 'https://example.test:8443/a%20b/c?d=1', {
      method: 'PUT',
      headers: { 'x-a': 'b', 'content-type': 'text/plain' },
      body: 'héllo',
    });
    assert.deepEqual(await r.json(), {
      url: 'https://example.test:8443/a%20b/c?d=1',
      method: 'PUT',
      h: 'b',
      body: 'héllo',
    });
  });

  it('gives GET no body, HEAD and 204 no body out, and keeps the reason phrase', async () => {
    const app: FetchApp = {
      fetch: (request) => {
        assert.equal(request.body, null);
        const status = new URL(request.url).pathname === '/none' ? 204 : 299;
        return new Response(status === 204 ? null : 'text', { status, statusText: 'Fine Indeed' });
      },
    };
    const head = await inject(fetchResponder(app), '/x', { method: 'HEAD' });
    assert.equal(head.status, 299);
    assert.equal(head.statusText, 'Fine Indeed');
    assert.equal(await head.text(), '');
    const none = await inject(fetchResponder(app), '/none');
    assert.equal(none.status, 204);
    assert.equal(await none.text(), '');
  });

  it('answers something not a Response, and a rejection, with the one error answer (500)', async () => {
    const notResponse = { fetch: () => ({ status: 200 }) } as unknown as FetchApp;
    const r1 = await inject(fetchResponder(notResponse), '/', quiet);
    assert.equal(r1.status, 500);
    const rejects: FetchApp = { fetch: () => Promise.reject(new Error('hidden')) };
    const r2 = await inject(fetchResponder(rejects), '/', quiet);
    assert.equal(r2.status, 500);
    assert.doesNotMatch(await r2.text(), /hidden/);
  });

  it('cuts the answer when its body fails after the head went out', async () => {
    const app: FetchApp = {
      fetch: () => {
        let n = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (n++ === 0) controller.enqueue(new TextEncoder().encode('start'));
            else controller.error(new Error('the source broke'));
          },
        });
        return new Response(body);
      },
    };
    const r = await inject(fetchResponder(app), '/', quiet);
    assert.equal(r.status, 200);
    await assert.rejects(r.text());
  });

  it('aborts request.signal when the client aborts', async () => {
    let aborted!: (reason: unknown) => void;
    const seen = new Promise((resolve) => (aborted = resolve));
    const app: FetchApp = {
      fetch: (request) => {
        request.signal.addEventListener('abort', () => aborted(request.signal.reason));
        // One chunk, so the head goes out, then nothing more.
        let n = 0;
        const body = new ReadableStream<Uint8Array>({
          pull: (controller) => (n++ === 0 ? controller.enqueue(new Uint8Array([1])) : new Promise(() => {})),
        });
        return new Response(body);
      },
    };
    const controller = new AbortController();
    const r = await inject(fetchResponder(app), '/', { signal: controller.signal });
    controller.abort(new Error('gone'));
    await assert.rejects(r.text());
    assert.ok((await seen) instanceof Error);
  });
});
