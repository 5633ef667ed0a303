// app.engine(), app.render() and res.render() as Express 5 has them: the view found through the
// `view` setting's class (and cached under 'view cache'), its options merged from app.locals,
// res.locals and the render's own locals, the answer sent as HTML or the error passed to next().
import { resolve } from 'node:path';
import { handlerFailed, type FcgiRequest, type FcgiResponse } from '../http/index.js';
import type { AppContext, NextFunction } from './contracts.js';
import { View, type RenderCallback, type ViewClass, type ViewEngine, type ViewLike } from './view.js';

/** What app.render() needs of the app (an Application is one). */
export interface RenderingApp extends AppContext {
  engines: Record<string, ViewEngine>;
  cache: Record<string, ViewLike>;
  render(name: string, options: Record<string, any> | RenderCallback | undefined, callback?: RenderCallback): void;
}

/** What res.render() needs of the response (an AppResponse is one). */
interface RenderingResponse {
  app: AppContext;
  locals: Record<string, any>;
  readonly req: FcgiRequest & { next?: NextFunction | undefined };
  send(body: string | undefined): unknown;
}

/** The settings a new app starts with for views: Express's View, `./views` of the working directory. */
export function viewDefaults(production: boolean): Record<string, unknown> {
  const settings: Record<string, unknown> = { view: View, views: resolve('views') };
  if (production) settings['view cache'] = true;
  return settings;
}

/** app.engine(): `fn` renders files ending in `ext` ('ejs' or '.ejs'). */
export function registerEngine(app: RenderingApp, ext: string, fn: ViewEngine): void {
  if (typeof fn !== 'function') throw new Error('callback function required');
  enginesOf(app)[ext[0] !== '.' ? `.${ext}` : ext] = fn;
}

/**
 * app.render(): finds view `name` (or takes it from the app's cache when the options' `cache`, by
 * default the 'view cache' setting, is on) and renders it with app.locals, then `options._locals`
 * (res.locals), then `options`. A view that is not found, or an engine that fails, calls back with
 * the error; a name with neither extension nor 'view engine', or an engine package that is
 * missing, throws, as in Express.
 */
export function renderApp(
  app: RenderingApp,
  name: string,
  options: Record<string, any> | RenderCallback | undefined,
  callback: RenderCallback | undefined,
): void {
  let done = callback as RenderCallback;
  let opts = (options ?? {}) as Record<string, any>;
  if (typeof options === 'function') {
    done = options as RenderCallback;
    opts = {};
  }
  const renderOptions: Record<string, any> = { ...app.locals, ...opts._locals, ...opts };
  if (renderOptions.cache == null) renderOptions.cache = app.enabled('view cache');
  let view = renderOptions.cache ? app.cache[name] : undefined;
  if (!view) {
    const ViewCtor = (app.set('view') ?? View) as ViewClass;
    const created = new ViewCtor(name, {
      defaultEngine: app.set('view engine'),
      root: app.set('views'),
      engines: enginesOf(app),
    });
    if (!created.path) {
      const root = created.root as string | string[];
      const dirs =
        Array.isArray(root) && root.length > 1
          ? `directories "${root.slice(0, -1).join('", "')}" or "${root[root.length - 1]}"`
          : `directory "${root}"`;
      done(Object.assign(new Error(`Failed to lookup view "${name}" in views ${dirs}`), { view: created }));
      return;
    }
    if (renderOptions.cache) app.cache[name] = created;
    view = created;
  }
  try {
    view.render(renderOptions, done);
  } catch (err) {
    done(err as Error);
  }
}

/**
 * res.render(): app.render() with res.locals as the options' `_locals`; without a callback the
 * HTML is sent (200, text/html) and an error goes to next().
 */
export function renderResponse(
  res: RenderingResponse,
  view: string,
  options: Record<string, any> | RenderCallback | undefined,
  callback: RenderCallback | undefined,
): void {
  let done = callback;
  let opts = (options ?? {}) as Record<string, any>;
  if (typeof options === 'function') {
    done = options as RenderCallback;
    opts = {};
  }
  // As Express: the caller's options object carries res.locals on to app.render().
  opts._locals = res.locals;
  done ??= (err, html) => {
    if (err) {
      const next = res.req.next;
      if (typeof next === 'function') next(err);
      else handlerFailed(err, res.req, res as unknown as FcgiResponse);
      return;
    }
    res.send(html);
  };
  (res.app as RenderingApp).render(view, opts, done);
}

/** The app's engines; a mounted app also sees its parent's (Express links them when mounting). */
function enginesOf(app: RenderingApp): Record<string, ViewEngine> {
  const own = app.engines;
  const parent = app.parent as RenderingApp | undefined;
  if (parent?.engines) {
    const inherited = enginesOf(parent);
    if (Object.getPrototypeOf(own) !== inherited) Object.setPrototypeOf(own, inherited);
  }
  return own;
}
