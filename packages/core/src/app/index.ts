// The framework layer: an Express-style app on top of the core responder.
export { createApp, Application, type App } from './application.js';
export { AppRequest } from './request.js';
export { AppResponse } from './response.js';
export { finalHandler, errorStatus } from './final-handler.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
