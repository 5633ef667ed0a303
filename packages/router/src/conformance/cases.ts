// Routing cases as data: a router built from steps, requests, and what each must produce. Express 5's
// semantics (pillarjs router v2, path-to-regexp syntax); cases marked `extension` are additions of
// @fcgi/router (405 with Allow). A string handler answers JSON { h, params, url, baseUrl, trace }.
export type PathSpec = string | RegExp | readonly PathSpec[];
export type RouterSpecOptions = { caseSensitive?: boolean; strict?: boolean; mergeParams?: boolean };

export type HandlerSpec =
  | string
  | {
      /** Label, recorded in the trace. */
      h?: string;
      /** Call next(), next('route') or next('router'). */
      next?: true | 'route' | 'router';
      /** Fail by throwing, by a rejected promise, or by next(err), with `status` (default 500). */
      fail?: 'throw' | 'reject' | 'next';
      status?: number;
      /** An error handler (four parameters): answer with the error, pass it on, or recover (next()). */
      error?: 'respond' | 'next' | 'recover';
      /** Answer after a turn of the event loop. */
      async?: boolean;
      /** Set req.url, then next(). */
      rewrite?: string;
      /** A nested router. */
      router?: { options?: RouterSpecOptions; steps: readonly Step[] };
    };

export interface ParamSpec {
  param: string;
  /** Upper-case the value, next('route'), or fail with 403; default next(). Traced as param:name=value. */
  do?: 'upper' | 'route' | 'error';
}

export type Step =
  | { verb: string; path: PathSpec; handlers: readonly HandlerSpec[] }
  | { route: PathSpec; methods: readonly [string, readonly HandlerSpec[]][] }
  | { use?: PathSpec; handlers: readonly HandlerSpec[] }
  | ParamSpec;

export interface Expect {
  status?: number;
  /** Which handler answered. */
  h?: string;
  params?: Record<string, unknown>;
  url?: string;
  baseUrl?: string;
  originalUrl?: string;
  trace?: readonly string[];
  error?: string;
  allow?: string;
  body?: string;
}

export interface Case {
  name: string;
  options?: RouterSpecOptions;
  steps: readonly Step[];
  requests: readonly { method?: string; url: string; expect: Expect }[];
  /** Set when the case needs @fcgi/router's additions. */
  extension?: boolean;
}

const verb =
  (v: string) =>
  (path: PathSpec, ...handlers: HandlerSpec[]): Step => ({ verb: v, path, handlers });
const get = verb('get');
const post = verb('post');
const all = verb('all');
const use = (path: PathSpec | undefined, ...handlers: HandlerSpec[]): Step =>
  path === undefined ? { handlers } : { use: path, handlers };
const sub = (steps: readonly Step[], options?: RouterSpecOptions): HandlerSpec => ({ router: { steps, options } });
const NOT_FOUND: Expect = { status: 404 };

export const cases: readonly Case[] = [
  // -- Parameters and decoding --
  {
    name: 'named params match one segment each',
    steps: [get('/users/:id', 'user'), get('/repos/:owner/:repo', 'repo')],
    requests: [
      { url: '/users/42', expect: { h: 'user', params: { id: '42' } } },
      { url: '/repos/nodejs/node?tab=1', expect: { h: 'repo', params: { owner: 'nodejs', repo: 'node' } } },
      { url: '/users', expect: NOT_FOUND },
      { url: '/users/42/more', expect: NOT_FOUND },
    ],
  },
  {
    name: 'params next to literal text in a segment',
    steps: [get('/files/:name.json', 'json'), get('/range/:from-:to', 'range')],
    requests: [
      { url: '/files/report.json', expect: { h: 'json', params: { name: 'report' } } },
      { url: '/files/report.xml', expect: NOT_FOUND },
      { url: '/range/1-5', expect: { h: 'range', params: { from: '1', to: '5' } } },
    ],
  },
  {
    name: 'quoted param names',
    steps: [get('/:"user id"/profile', 'q')],
    requests: [{ url: '/ann/profile', expect: { h: 'q', params: { 'user id': 'ann' } } }],
  },
  {
    name: 'params are percent-decoded; a malformed escape is a 400 error',
    steps: [get('/users/:id', 'user')],
    requests: [
      { url: '/users/caf%C3%A9', expect: { h: 'user', params: { id: 'café' } } },
      { url: '/users/a%2Fb', expect: { h: 'user', params: { id: 'a/b' } } },
      { url: '/users/%E0%A4%A', expect: { status: 400 } },
    ],
  },
  {
    name: 'literal text is matched against the raw (encoded) path',
    steps: [get('/caf%C3%A9', 'encoded')],
    requests: [
      { url: '/caf%C3%A9', expect: { h: 'encoded' } },
      { url: '/cafe', expect: NOT_FOUND },
    ],
  },
  // -- Optional parts and splats --
  {
    name: 'optional groups',
    steps: [get('/posts{/:slug}', 'posts'), get('/file{.:ext}', 'file')],
    requests: [
      { url: '/posts', expect: { h: 'posts', params: {} } },
      { url: '/posts/hello', expect: { h: 'posts', params: { slug: 'hello' } } },
      { url: '/file', expect: { h: 'file', params: {} } },
      { url: '/file.txt', expect: { h: 'file', params: { ext: 'txt' } } },
    ],
  },
  {
    name: 'splats give arrays of decoded segments',
    steps: [get('/files/*path', 'files'), get('/opt{/*rest}', 'opt')],
    requests: [
      { url: '/files/a/b%20c/d', expect: { h: 'files', params: { path: ['a', 'b c', 'd'] } } },
      { url: '/files', expect: NOT_FOUND },
      { url: '/opt', expect: { h: 'opt', params: {} } },
      { url: '/opt/x/y', expect: { h: 'opt', params: { rest: ['x', 'y'] } } },
    ],
  },
  {
    name: 'a root splat catches everything after earlier routes',
    steps: [get('/known', 'known'), get('/*all', 'fallback')],
    requests: [
      { url: '/known', expect: { h: 'known' } },
      { url: '/a/b', expect: { h: 'fallback', params: { all: ['a', 'b'] } } },
    ],
  },
  // -- Trailing slashes and case --
  {
    name: 'trailing slashes are optional unless strict',
    steps: [get('/about', 'about'), get('/team/', 'team')],
    requests: [
      { url: '/about', expect: { h: 'about' } },
      { url: '/about/', expect: { h: 'about' } },
      { url: '/team', expect: { h: 'team' } },
      { url: '/team/', expect: { h: 'team' } },
      { url: '/about//', expect: NOT_FOUND },
    ],
  },
  {
    name: 'strict routing tells /x from /x/',
    options: { strict: true },
    steps: [get('/about', 'about'), get('/team/', 'team')],
    requests: [
      { url: '/about', expect: { h: 'about' } },
      { url: '/about/', expect: NOT_FOUND },
      { url: '/team/', expect: { h: 'team' } },
      { url: '/team', expect: NOT_FOUND },
    ],
  },
  {
    name: 'case-insensitive by default; param values keep their case',
    steps: [get('/About/:Name', 'about')],
    requests: [{ url: '/aBOUT/MiXed', expect: { h: 'about', params: { Name: 'MiXed' } } }],
  },
  {
    name: 'caseSensitive routing',
    options: { caseSensitive: true },
    steps: [get('/About', 'about'), use('/Api', sub([get('/x', 'x')]))],
    requests: [
      { url: '/About', expect: { h: 'about' } },
      { url: '/about', expect: NOT_FOUND },
      { url: '/Api/x', expect: { h: 'x' } },
      { url: '/api/x', expect: NOT_FOUND },
    ],
  },
  // -- Methods, HEAD, OPTIONS, 405 --
  {
    name: 'methods, all(), and route() chains',
    steps: [
      get('/items', 'list'),
      post('/items', 'create'),
      all('/any', 'any'),
      {
        route: '/chain/:id',
        methods: [
          ['get', ['chain-get']],
          ['put', ['chain-put']],
        ],
      },
    ],
    requests: [
      { url: '/items', expect: { h: 'list' } },
      { method: 'POST', url: '/items', expect: { h: 'create' } },
      { method: 'PATCH', url: '/any', expect: { h: 'any' } },
      { method: 'PUT', url: '/chain/7', expect: { h: 'chain-put', params: { id: '7' } } },
    ],
  },
  {
    name: 'HEAD runs GET handlers unless the route has HEAD handlers',
    steps: [
      get('/a', 'get-a'),
      {
        route: '/b',
        methods: [
          ['head', ['head-b']],
          ['get', ['get-b']],
        ],
      },
    ],
    requests: [
      { method: 'HEAD', url: '/a', expect: { h: 'get-a' } },
      { method: 'HEAD', url: '/b', expect: { h: 'head-b' } },
    ],
  },
  {
    name: 'OPTIONS is answered with Allow when no handler answers it',
    steps: [
      get('/items', 'list'),
      post('/items', 'create'),
      {
        route: '/own',
        methods: [
          ['options', ['own-options']],
          ['get', ['g']],
        ],
      },
    ],
    requests: [
      { method: 'OPTIONS', url: '/items', expect: { status: 200, allow: 'GET, HEAD, POST', body: 'GET, HEAD, POST' } },
      { method: 'OPTIONS', url: '/own', expect: { h: 'own-options' } },
      { method: 'OPTIONS', url: '/none', expect: NOT_FOUND },
    ],
  },
  {
    name: '405 with Allow for a path that has routes for other methods only',
    extension: true,
    steps: [get('/items', 'list'), post('/items', 'create'), get('/users/:id', 'user')],
    requests: [
      { method: 'DELETE', url: '/items', expect: { status: 405, allow: 'GET, HEAD, POST' } },
      { method: 'POST', url: '/users/1', expect: { status: 405, allow: 'GET, HEAD' } },
      { method: 'POST', url: '/users', expect: NOT_FOUND },
    ],
  },
  {
    name: 'OPTIONS lists the methods of every router the path reaches (Express: the innermost router answers)',
    extension: true,
    steps: [get('/x', 'get-x'), use(undefined, sub([post('/x', 'post-x')]))],
    requests: [{ method: 'OPTIONS', url: '/x', expect: { status: 200, allow: 'GET, HEAD, POST' } }],
  },
  {
    name: 'HEAD on a path with no GET or HEAD route is 405',
    extension: true,
    steps: [post('/only-post', 'p')],
    requests: [{ method: 'HEAD', url: '/only-post', expect: { status: 405, allow: 'POST' } }],
  },
  {
    name: 'a later router serving the method wins over 405',
    extension: true,
    steps: [use(undefined, sub([get('/x', 'get-x')])), use(undefined, sub([post('/x', 'post-x')]))],
    requests: [
      { method: 'POST', url: '/x', expect: { h: 'post-x' } },
      { method: 'PUT', url: '/x', expect: { status: 405, allow: 'GET, HEAD, POST' } },
    ],
  },
  // -- Mounting and nesting --
  {
    name: 'use() strips its prefix: url and baseUrl inside, restored after',
    steps: [
      use('/api', sub([get('/users/:id', 'api-user')])),
      use('/api', { h: 'mw', next: true }),
      get('/api/other', 'top'),
    ],
    requests: [
      {
        url: '/api/users/1?x=1',
        expect: {
          h: 'api-user',
          url: '/users/1?x=1',
          baseUrl: '/api',
          originalUrl: '/api/users/1?x=1',
          params: { id: '1' },
        },
      },
      { url: '/api/other', expect: { h: 'top', url: '/api/other', baseUrl: '', trace: ['mw', 'top'] } },
      { url: '/apix', expect: NOT_FOUND },
    ],
  },
  {
    name: 'use() at the mount point itself sees "/"',
    steps: [use('/api', 'at-root')],
    requests: [
      { url: '/api', expect: { h: 'at-root', url: '/', baseUrl: '/api' } },
      { url: '/api/', expect: { h: 'at-root', url: '/', baseUrl: '/api' } },
      { url: '/api?q=1', expect: { h: 'at-root', url: '/?q=1', baseUrl: '/api' } },
    ],
  },
  {
    name: 'use() paths: a trailing slash is ignored, lists mount at each, params in the prefix',
    steps: [
      use('/docs/', 'docs'),
      use(['/a', '/b'], 'listed'),
      use('/u/:uid', { h: 'prefix-param', next: true }),
      get('/u/:uid/x', 'after'),
    ],
    requests: [
      { url: '/docs/intro', expect: { h: 'docs', baseUrl: '/docs', url: '/intro' } },
      { url: '/b/c', expect: { h: 'listed', baseUrl: '/b', url: '/c' } },
      { url: '/u/7/x', expect: { h: 'after', params: { uid: '7' }, trace: ['prefix-param', 'after'] } },
    ],
  },
  {
    name: 'nested routers two levels deep',
    steps: [use('/api', sub([use('/v1', sub([get('/ping', 'ping')]))]))],
    requests: [{ url: '/api/v1/ping', expect: { h: 'ping', baseUrl: '/api/v1', url: '/ping' } }],
  },
  {
    name: 'mergeParams keeps the parent params',
    steps: [
      use('/users/:uid', sub([get('/posts/:pid', 'merged')], { mergeParams: true })),
      use('/people/:uid', sub([get('/posts/:pid', 'own')])),
    ],
    requests: [
      { url: '/users/u1/posts/p2', expect: { h: 'merged', params: { uid: 'u1', pid: 'p2' }, baseUrl: '/users/u1' } },
      { url: '/people/u1/posts/p2', expect: { h: 'own', params: { pid: 'p2' } } },
    ],
  },
  {
    name: 'middleware and routes run in the order they were added',
    steps: [
      use(undefined, { h: 'one', next: true }),
      get('/x', { h: 'route', next: true }),
      use(undefined, { h: 'two', next: true }),
      get('/x', 'end'),
    ],
    requests: [{ url: '/x', expect: { h: 'end', trace: ['one', 'route', 'two', 'end'] } }],
  },
  {
    name: 'middleware that rewrites req.url changes what later layers match (under a mount, relative to it)',
    steps: [
      use('/old', { h: 'rw', rewrite: '/new' }),
      get('/new', 'new'),
      get('/old/new', 'old-new'),
      use(undefined, { h: 'rw2', rewrite: '/moved' }),
      get('/moved', 'moved'),
    ],
    requests: [
      { url: '/old', expect: { h: 'old-new', url: '/old/new', trace: ['rw', 'old-new'] } },
      { url: '/elsewhere', expect: { h: 'moved', url: '/moved', trace: ['rw2', 'moved'] } },
    ],
  },
  // -- Param callbacks --
  {
    name: 'param callbacks run once per value and may change it',
    steps: [{ param: 'id', do: 'upper' }, get('/users/:id', { h: 'first', next: true }), get('/users/:id', 'second')],
    requests: [
      { url: '/users/ab', expect: { h: 'second', params: { id: 'AB' }, trace: ['param:id=ab', 'first', 'second'] } },
    ],
  },
  {
    name: 'param callbacks run before use() layers too, and not again for the same value',
    steps: [
      { param: 'id' },
      use('/items/:id', { h: 'mw', next: true }),
      get('/items/:id', 'item'),
      get('/other/:id', 'other'),
    ],
    requests: [{ url: '/items/5', expect: { h: 'item', trace: ['param:id=5', 'mw', 'item'] } }],
  },
  {
    name: 'a param callback may skip the route or fail',
    steps: [
      { param: 'skip', do: 'route' },
      { param: 'bad', do: 'error' },
      get('/s/:skip', 'skipped'),
      get('/s/:other', 'next-route'),
      get('/b/:bad', 'never'),
    ],
    requests: [
      { url: '/s/1', expect: { h: 'next-route', params: { other: '1' } } },
      { url: '/b/1', expect: { status: 403 } },
    ],
  },
  // -- next('route'), next('router') --
  {
    name: "next('route') skips the rest of the route's handlers",
    steps: [get('/x', { h: 'a', next: 'route' }, 'b'), get('/x', 'c')],
    requests: [{ url: '/x', expect: { h: 'c', trace: ['a', 'c'] } }],
  },
  {
    name: "next('router') leaves the router",
    steps: [use('/r', sub([use(undefined, { h: 'in', next: 'router' }), get('/x', 'never')])), get('/r/x', 'outside')],
    requests: [{ url: '/r/x', expect: { h: 'outside', baseUrl: '', url: '/r/x', trace: ['in', 'outside'] } }],
  },
  // -- Errors --
  {
    name: 'thrown and rejected errors go to error handlers, skipping routes',
    steps: [
      get('/throw', { h: 't', fail: 'throw', status: 418 }),
      get('/reject', { h: 'r', fail: 'reject', status: 409 }),
      get('/throw', 'skipped-route'),
      use(undefined, { h: 'skipped-mw', next: true }),
      use(undefined, { h: 'handler', error: 'respond' }),
    ],
    requests: [
      { url: '/throw', expect: { status: 418, h: 'handler', error: 't threw', trace: ['handler'] } },
      { url: '/reject', expect: { status: 409, h: 'handler', error: 'r rejected' } },
    ],
  },
  {
    name: 'error handlers inside a route, passing on, and recovering',
    steps: [
      get('/e', { h: 'f', fail: 'next', status: 422 }, { h: 'route-eh', error: 'respond' }),
      get('/pass', { h: 'f', fail: 'next', status: 422 }, { h: 'pass-on', error: 'next' }),
      get('/recover', { h: 'f', fail: 'next' }, { h: 'fix', error: 'recover' }, 'after-fix'),
    ],
    requests: [
      { url: '/e', expect: { status: 422, h: 'route-eh' } },
      { url: '/pass', expect: { status: 422 } },
      { url: '/recover', expect: { h: 'after-fix', trace: ['fix', 'after-fix'] } },
    ],
  },
  {
    name: 'async handlers answer later',
    steps: [get('/slow', { h: 'slow', async: true })],
    requests: [{ url: '/slow', expect: { h: 'slow' } }],
  },
  // -- RegExp and lists of paths --
  {
    name: 'RegExp paths: params by position or group name',
    steps: [get(/^\/re\/(\d+)\/(\w+)$/, 're'), get(/^\/named\/(?<id>\d+)$/, 'named')],
    requests: [
      { url: '/re/12/ab', expect: { h: 're', params: { 0: '12', 1: 'ab' } } },
      { url: '/named/7', expect: { h: 'named', params: { id: '7' } } },
    ],
  },
  {
    name: 'lists of paths: the first that matches',
    steps: [get(['/a', '/b/:x', /^\/c$/], 'list')],
    requests: [
      { url: '/a', expect: { h: 'list', params: {} } },
      { url: '/b/1', expect: { h: 'list', params: { x: '1' } } },
      { url: '/c', expect: { h: 'list' } },
      { url: '/d', expect: NOT_FOUND },
    ],
  },
  // -- Long synchronous chains --
  {
    name: 'long synchronous chains do not overflow the stack',
    steps: [
      get('/deep', ...Array.from({ length: 3000 }, () => ({ next: true as const })), 'deep-end'),
      ...Array.from({ length: 3000 }, () => use(undefined, { next: true })),
      get('/wide', 'wide-end'),
    ],
    requests: [
      { url: '/deep', expect: { h: 'deep-end' } },
      { url: '/wide', expect: { h: 'wide-end' } },
    ],
  },
];
