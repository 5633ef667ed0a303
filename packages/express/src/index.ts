// @fcgi/express: Express 5's entry point on @fcgi, so that an Express app moves by its import line.
// express() is createApp() with @fcgi/router's path-to-regexp matcher (Express 5's path syntax);
// the module's other members are Express's: the body parsers, static, Router, Route, and the
// prototypes every app's request, response and application inherit from.
import { AppRequest, AppResponse, createApp, json, raw, Route, text, urlencoded, type AppOptions } from '@fcgi/core';
import { Router, patterns } from '@fcgi/router';
import { serveStatic } from '@fcgi/static';
import { ExpressApplication, type ExpressApp } from './application.js';

export { ExpressApplication, type ExpressApp } from './application.js';
export type { ListenCallback, ListenOptions } from './listen.js';
// The type names of @types/express that TypeScript apps import, where they do not shadow a global:
// `Request` and `Response` are the Fetch API's, so those two are AppRequest and AppResponse.
export type {
  AppRequest,
  AppResponse,
  ErrorHandler as ErrorRequestHandler,
  NextFunction,
  RequestHandler,
} from '@fcgi/core';
export type { ExpressApp as Express } from './application.js';

/**
 * A new app, as Express's `express()`: createApp() with `patterns` as its matcher (another
 * `matcher` may be given) and Express's `listen(port, host, callback)`.
 */
function express(options: AppOptions = {}): ExpressApp {
  const app = createApp({ matcher: patterns, ...options });
  // Made once per app: the app's own methods stay createApp()'s, only listen() is Express's.
  Object.setPrototypeOf(app, ExpressApplication.prototype);
  return app as unknown as ExpressApp;
}

/** What every app made by express() inherits (Express's `express.application`). */
const application: ExpressApplication = ExpressApplication.prototype;
/** What every app's `app.request` inherits (Express's `express.request`). */
const request: AppRequest = AppRequest.prototype;
/** What every app's `app.response` inherits (Express's `express.response`). */
const response: AppResponse = AppResponse.prototype;

express.application = application;
express.request = request;
express.response = response;
express.Route = Route;
express.Router = Router;
express.json = json;
express.raw = raw;
express.static = serveStatic;
express.text = text;
express.urlencoded = urlencoded;

export default express;
export { application, request, response, Route, Router, json, raw, serveStatic as static, text, urlencoded };
