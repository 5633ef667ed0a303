// The framework layer: an Express-style app on top of the core responder.
export { createApp, Application, type App, type ForeignMiddleware } from './application.js';
export { AppRequest } from './request.js';
export { AppResponse } from './response.js';
export { finalHandler, errorStatus } from './final-handler.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
export { compileTrust, forwardedChain, type TrustFn } from './proxy-trust.js';
export type { FormatHandler } from './response.js';
export { contentDisposition, encodeExtValue, type ContentDispositionOptions } from './content-disposition.js';
export { serializeCookie, type CookieOptions } from './set-cookie.js';
export * from './body/index.js';
export { status, statusReport, formatStatus, type StatusOptions, type StatusReport } from './status.js';
