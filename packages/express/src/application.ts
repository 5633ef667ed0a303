// The app express() makes: createApp()'s dispatcher and helpers, with a listen() that takes Express's
// arguments and calls back. It extends the app layer's Application, not createApp()'s
// ServingApplication, whose listen(target, options) reads a port as a FastCGI port.
import {
  Application,
  serve,
  type FcgiRequest,
  type FcgiResponse,
  type Handler,
  type NextFunction,
  type Serving,
} from '@fcgi/core';
import { planListen, type ListenCallback, type ListenOptions } from './listen.js';

export class ExpressApplication extends Application {
  /**
   * Serves the app as createApp()'s listen() does — a listening socket on fd 0, FCGI_LISTEN or a
   * CGI environment when the host offers one — and otherwise the development gateway on `port`
   * (`host`, default 127.0.0.1). `callback` runs once listening, or gets the error, as Express's.
   * Resolves to what it serves on; with a callback, a failure is the callback's and not a rejection.
   */
  listen(callback?: ListenCallback): Promise<Serving>;
  listen(port: number | string, callback?: ListenCallback): Promise<Serving>;
  listen(port: number | string, host: string, callback?: ListenCallback): Promise<Serving>;
  listen(port: number | string, host: string, backlog: number, callback?: ListenCallback): Promise<Serving>;
  listen(options: ListenOptions, callback?: ListenCallback): Promise<Serving>;
  listen(...args: unknown[]): Promise<Serving> {
    const { options, callback } = planListen(args);
    const serving = serve(this as unknown as Handler, options);
    if (callback === undefined) return serving;
    // The callback handles a failure, as an 'error' listener does on Express's server: the returned
    // promise then resolves to undefined instead of rejecting unhandled.
    return serving.then(
      (s) => {
        callback.call(this);
        return s;
      },
      (err: Error) => {
        callback.call(this, err);
        return undefined as unknown as Serving;
      },
    );
  }
}

/** An app made by express(): a handler with the app's methods, and Express's listen(). */
export interface ExpressApp extends ExpressApplication {
  /** An app is itself a handler: mount it in another app, or give it to serve(). */
  (req: FcgiRequest, res: FcgiResponse, next?: NextFunction): void;
}
