// The framework layer: an Express-style app on top of the core responder.
export { createApp, Application, type App, type ForeignMiddleware } from './application.js';
export { AppRequest } from './request.js';
export { AppResponse } from './response.js';
export { finalHandler, errorStatus } from './final-handler.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
export { preferredMediaTypes, preferredCharsets, preferredEncodings, preferredLanguages } from './accepts.js';
export { typeIs, hasBody } from './type-is.js';
export { compileTrust, forwardedChain, type TrustFn } from '../semantics/index.js';
export { encodeUrl, setCharset, type FormatHandler } from './response.js';
export { etag, compileEtag, type EtagFunction, type EtagOptions, type StatLike } from './etag.js';
export { contentDisposition, type ContentDispositionOptions } from '../semantics/index.js';
export { serializeCookie, type CookieOptions } from './set-cookie.js';
export * from './body/index.js';
export { status, statusReport, formatStatus, type StatusOptions, type StatusReport } from './status.js';
