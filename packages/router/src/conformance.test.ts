// The conformance cases against this router, and — for the cases that do not use this package's
// additions — against Express 5's own router (the `router` package), to show the semantics agree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ExpressRouter from 'router';
import { allowedMethods } from '@fcgi/core';
import { cases, runCase, type AnyRouter, type RouterFactory } from './conformance/index.js';
import { Router } from './index.js';

const ours: RouterFactory = {
  name: '@fcgi/router',
  extensions: true,
  create: (options) => Router(options) as unknown as AnyRouter,
  // Nested routers defer OPTIONS/405 to the end of the chain; here the runner's final handler is
  // that end, so allowedMethods() stands in front of it.
  run: (router, req, res, final) =>
    router(req, res, (err) => (err ? final(err) : allowedMethods()(req, res as never, final))),
};

const express: RouterFactory = {
  name: 'router (Express 5)',
  extensions: false,
  create: (options) => new ExpressRouter(options) as unknown as AnyRouter,
  run: (router, req, res, final) => router(req, res, final),
};

for (const factory of [ours, express]) {
  describe(`conformance: ${factory.name}`, () => {
    for (const c of cases) {
      const skip = c.extension && !factory.extensions ? 'an addition of @fcgi/router' : false;
      it(c.name, { timeout: 10_000, skip }, async () => {
        const problems = await runCase(factory, c);
        assert.deepEqual(problems, []);
      });
    }
  });
}
