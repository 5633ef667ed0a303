// Typed params: these assertions are checked by the type check that runs before the tests (a wrong
// type fails the run); the runtime part only shows the handlers are reachable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp, type AppRequest, type AppResponse, type NextFunction } from '@fcgi/core';
import type { ParamsFor, ParamsOf } from '@fcgi/core';
import { Router, patterns } from './index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok?: T): void {}

describe('ParamsOf', () => {
  it('reads names, splats, optional groups, quoted names and escapes', () => {
    expectType<Equal<ParamsOf<'/users/:id'>, { id: string }>>();
    expectType<
      Equal<ParamsOf<'/repos/:owner/:repo/issues/:number'>, { owner: string; repo: string; number: string }>
    >();
    expectType<Equal<ParamsOf<'/files/*path'>, { path: string[] }>>();
    expectType<Equal<ParamsOf<'/users{/:id}'>, { id?: string }>>();
    expectType<Equal<ParamsOf<'/a{/:b{/:c}}/*rest'>, { rest: string[]; b?: string; c?: string }>>();
    expectType<Equal<ParamsOf<'/:"with space"/x'>, { 'with space': string }>>();
    expectType<Equal<ParamsOf<'/file.:ext'>, { ext: string }>>();
    expectType<Equal<ParamsOf<'/:from-:to'>, { from: string; to: string }>>();
    expectType<Equal<ParamsOf<'/price\\:cheap/:id'>, { id: string }>>();
    expectType<Equal<ParamsOf<'/static/path'>, {}>>();
    expectType<Equal<ParamsOf<string>, Record<string, any>>>();
    expectType<Equal<ParamsFor<RegExp>, Record<string, string>>>();
    expectType<Equal<ParamsFor<readonly ['/a/:x', '/b/:y']>, { x?: string; y?: string }>>();
  });
});

describe('typed handlers', () => {
  it('router and app routes give req.params its type from the path', () => {
    const router = Router();
    router.get('/users/:id', (req, res) => {
      const id: string = req.params.id;
      // @ts-expect-error no such param
      void req.params.name;
      res.end(id);
    });
    router.get('/files/*path', (req) => {
      const parts: string[] = req.params.path;
      void parts;
    });
    router.route('/posts{/:slug}').get((req) => {
      const slug: string | undefined = req.params.slug;
      // @ts-expect-error optional: not a plain string
      const s: string = req.params.slug;
      void slug;
      void s;
    });
    router.route('/all/:a').all((req, _res, next) => {
      const a: string = req.params.a;
      void a;
      next();
    });
    router.post(['/a/:x', '/b/:y'], (req) => {
      const x: string | undefined = req.params.x;
      void x;
    });
    // Mixed lists (a handler and an error handler) need the error handler annotated, as with Express's types.
    router.get(
      '/err',
      (_req, _res, next) => next(),
      (err: unknown, _req: AppRequest, _res: AppResponse, next: NextFunction) => next(err),
    );
    router.use((req, _res, next) => {
      void req.baseUrl;
      next();
    });
    router.use((err: unknown, _req: AppRequest, _res: unknown, next: (e?: unknown) => void) => next(err));
    router.use(
      '/sub/:id',
      Router<{ id: string }>({ mergeParams: true }).get('/x', (req) => {
        const inherited: string = req.params.id;
        void inherited;
      }),
    );

    const app = createApp({ matcher: patterns });
    app.get('/items/:item', (req, res) => {
      const item: string = req.params.item;
      res.end(item);
    });
    app.route('/r/:a').get((req) => {
      const a: string = req.params.a;
      void a;
    });
    app.set('x', 1);
    const setting: unknown = app.get('x');
    assert.equal(setting, 1);
    assert.equal(router.stack.length, 9);
  });
});
