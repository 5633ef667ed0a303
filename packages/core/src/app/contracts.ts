// The two shapes every file of the app layer may name without importing the app itself: the
// `next` of a chain, and what a request or response knows of the app handling it (`req.app`).

/** Continues the chain; with an error, skips to the next error middleware. 'route' and 'router' skip as in Express. */
export type NextFunction = (err?: unknown) => void;

/** The app handling a request, as `req.app` and `res.app` see it (an Application is one). */
export interface AppContext {
  /** Settings; a mounted app's inherit its parent's. */
  settings: Record<string, any>;
  /** Values shared by every request. */
  locals: Record<string, any>;
  parent: AppContext | undefined;
  mountpath: unknown;
  set(name: string): any;
  set(name: string, value: unknown): unknown;
  enabled(name: string): boolean;
  disabled(name: string): boolean;
  /** The full mount path, parents included. */
  path(): string;
}
