// Router benchmark: @fcgi/router against Express 5's router (`router`) and fastify's find-my-way,
// on GitHub-like route tables of 10, 100 and 1000 routes.
//
//   node --import tsx bench/router.ts [--ms 300] [--runs 5]
//
// What is measured: one request dispatched through each router's normal entry point — router(req,
// res, next) for ours and Express's, lookup(req, res) for find-my-way — with minimal fake req/res
// objects (a fresh req per request: { method, url, headers }), until the matched handler runs
// (it calls res.end()). So matching, params, and each router's per-request bookkeeping; no
// network, no HTTP parsing. Requests cycle through paths drawn evenly from the whole table, each
// with the route's method. Every router must answer every request with the same route (checked
// before timing). Each figure is the median of several timed runs (interleaved); ops/s.
import ExpressRouter from 'router';
import FindMyWay from 'find-my-way';
import { Router } from '@fcgi/router';
import { githubRoutes, requestPath, type RouteDef } from './router-routes.js';

interface FakeReq {
  method: string;
  url: string;
  headers: Record<string, string>;
}
interface FakeRes {
  hit: number;
  end(): void;
  setHeader(): void;
  getHeader(): undefined;
}

type Dispatch = (req: FakeReq, res: FakeRes) => void;

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SAMPLE_MS = opt('ms', 300);
const RUNS = opt('runs', 5);
const SIZES = [10, 100, 1000];
const PATHS = 256;

const noop = () => {};
const fail = (err?: unknown) => {
  throw new Error(`request fell through the router: ${String(err ?? 'no route')}`);
};

function makeOurs(routes: RouteDef[]): Dispatch {
  const r = Router();
  routes.forEach((route, i) => {
    (r as unknown as Record<string, (p: string, h: unknown) => void>)[route.method.toLowerCase()]!(
      route.path,
      (_req: unknown, res: FakeRes) => {
        res.hit = i;
        res.end();
      },
    );
  });
  return (req, res) => (r as unknown as (a: FakeReq, b: FakeRes, n: (e?: unknown) => void) => void)(req, res, fail);
}

function makeExpress(routes: RouteDef[]): Dispatch {
  const r = new ExpressRouter() as unknown as Record<string, (p: string, h: unknown) => void> &
    ((a: FakeReq, b: FakeRes, n: (e?: unknown) => void) => void);
  routes.forEach((route, i) => {
    r[route.method.toLowerCase()]!(route.path, (_req: unknown, res: FakeRes) => {
      res.hit = i;
      res.end();
    });
  });
  return (req, res) => r(req, res, fail);
}

function makeFindMyWay(routes: RouteDef[]): Dispatch {
  const r = FindMyWay({ defaultRoute: () => fail() });
  routes.forEach((route, i) => {
    r.on(route.method as 'GET', route.path, (_req, res) => {
      (res as unknown as FakeRes).hit = i;
      (res as unknown as FakeRes).end();
    });
  });
  return (req, res) => r.lookup(req as never, res as never);
}

const ROUTERS: [string, (routes: RouteDef[]) => Dispatch][] = [
  ['@fcgi/router', makeOurs],
  ['router (Express 5)', makeExpress],
  ['find-my-way', makeFindMyWay],
];

function requestsFor(routes: RouteDef[]): FakeReq[] {
  const out: FakeReq[] = [];
  for (let n = 0; n < PATHS; n++) {
    const route = routes[Math.floor((n * routes.length) / PATHS) % routes.length]!;
    out.push({ method: route.method, url: requestPath(route.path, n) + (n % 4 === 0 ? '?page=2' : ''), headers: {} });
  }
  return out;
}

const res: FakeRes = { hit: -1, end: noop, setHeader: noop, getHeader: () => undefined };

function answers(dispatch: Dispatch, requests: FakeReq[]): number[] {
  return requests.map((r) => {
    res.hit = -1;
    dispatch({ method: r.method, url: r.url, headers: r.headers }, res);
    return res.hit;
  });
}

/** Requests per second over about SAMPLE_MS. */
function sample(dispatch: Dispatch, requests: FakeReq[]): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(SAMPLE_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      dispatch({ method: r.method, url: r.url, headers: r.headers }, res);
    }
    ops += requests.length;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const rows: string[] = [];
for (const size of SIZES) {
  const routes = githubRoutes(size);
  const requests = requestsFor(routes);
  const dispatchers = ROUTERS.map(([name, make]) => [name, make(routes)] as const);
  const reference = answers(dispatchers[0]![1], requests);
  for (const [name, d] of dispatchers) {
    const got = answers(d, requests);
    const wrong = got.findIndex((h, i) => h !== reference[i]);
    if (wrong >= 0)
      throw new Error(
        `${name} answered ${requests[wrong]!.method} ${requests[wrong]!.url} with route ${got[wrong]}, @fcgi/router with ${reference[wrong]}`,
      );
  }
  for (const [, d] of dispatchers) sample(d, requests); // warm-up
  const results = new Map<string, number[]>(dispatchers.map(([name]) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, d] of dispatchers) results.get(name)!.push(sample(d, requests));
  }
  const ours = median(results.get('@fcgi/router')!);
  const express = median(results.get('router (Express 5)')!);
  const fmw = median(results.get('find-my-way')!);
  rows.push(
    `| ${size} | ${fmt(ours)} | ${fmt(express)} | ${fmt(fmw)} | ${(ours / express).toFixed(2)}x | ${(ours / fmw).toFixed(2)}x |`,
  );
  console.error(`${size} routes done`);
}

console.log(
  `Node ${process.version}, ${PATHS} request paths per table, median of ${RUNS} runs of ${SAMPLE_MS} ms (ops/s)\n`,
);
console.log('| routes | @fcgi/router | router (Express 5) | find-my-way | ours / Express | ours / find-my-way |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
