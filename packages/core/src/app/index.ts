// The framework layer: an Express-style app on top of the core responder.
export { createApp, Application, type App, type ForeignMiddleware } from './application.js';
export { AppRequest } from './request.js';
export { AppResponse, type FormatHandler } from './response.js';
export { finalHandler } from './final-handler.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
export type { CookieOptions } from './set-cookie.js';
export {
  json, urlencoded, text, raw, multipart, parseMultipart,
  type JsonOptions, type UrlencodedOptions, type TextOptions, type ParserOptions, type TypeOption, type BodyMiddleware,
  type MultipartOptions, type UploadedFile, type MultipartLimits, type MultipartPart, type MultipartSource,
} from './body/index.js';
