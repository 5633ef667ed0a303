// The `env` an app runs with when nobody chose one: serve() settles it for the mode it picked —
// 'production' behind a web server (FastCGI, CGI), 'development' behind the development gateway.

/** In an app's settings: its `env` is still the default (no NODE_ENV, no app.set('env', ...)). */
export const ENV_DEFAULT = Symbol('env default');

interface Settable {
  settings?: Record<PropertyKey, unknown>;
  set?: (name: string, value: unknown) => unknown;
  request?: unknown;
  response?: unknown;
}

/**
 * Gives `handler` the `env` of the mode serve() picked when it is still the default: a createApp()
 * app (marked with ENV_DEFAULT), or an Express app whose 'env' is Express's 'development' with no
 * NODE_ENV. Express's own consequence of 'production' follows for both ('view cache' on, unless set). An
 * explicit choice — NODE_ENV, or app.set('env', ...) on our apps — is left alone. Process-wide
 * state (process.env) is not touched.
 */
export function settleEnv(handler: unknown, env: 'production' | 'development'): void {
  if (typeof handler !== 'function') return;
  const app = handler as Settable;
  const settings = app.settings;
  if (!settings || typeof settings !== 'object') return;
  if (Object.hasOwn(settings, ENV_DEFAULT)) {
    delete settings[ENV_DEFAULT];
    settings.env = env;
    if (env === 'production' && settings['view cache'] === undefined) settings['view cache'] = true;
    return;
  }
  // Express sets env from NODE_ENV || 'development' when it is created; only that default moves.
  const express = typeof app.set === 'function' && typeof app.request === 'object' && typeof app.response === 'object';
  if (!express || process.env.NODE_ENV || settings.env !== 'development' || env === 'development') return;
  app.set!('env', env);
  if (settings['view cache'] === undefined) app.set!('view cache', true);
}
