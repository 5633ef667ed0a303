// createApp(): an app of the app layer that can also serve itself. listen() needs the servers,
// which sit above the app layer, so it is added here, by a subclass, and not in app/.
import { Application, initApp, type App as LayerApp, type AppOptions } from './app/application.js';
import { serve, type ServeOptions, type Serving } from './serve.js';
import type { ListenTarget } from './server/index.js';

export class ServingApplication extends Application {
  /**
   * Serves the app the way the host asks: a listening socket on fd 0, FCGI_LISTEN, a CGI
   * environment, the `target` given here, or else the development gateway on http://127.0.0.1:3000.
   */
  listen(target?: ListenTarget, options: Omit<ServeOptions, 'target'> = {}): Promise<Serving> {
    return serve(this as unknown as LayerApp, { ...options, ...(target === undefined ? {} : { target }) });
  }
}

/** An app made by createApp(): a handler with the app's methods and listen(). */
export interface App extends LayerApp, ServingApplication {}

/** A new app; `{ matcher: patterns }` (from @fcgi/router) for path patterns in its routes. */
export function createApp(options?: AppOptions): App {
  return initApp<App>(ServingApplication.prototype, options);
}
