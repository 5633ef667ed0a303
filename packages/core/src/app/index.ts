// The framework layer: an Express-style app on top of the core responder.
export { createApp, Application, type App, type ForeignMiddleware } from './application.js';
export { AppRequest } from './request.js';
export { AppResponse } from './response.js';
export { finalHandler, errorStatus } from './final-handler.js';
export type { NextFunction, Middleware, ErrorMiddleware, Mountable, Handle } from './types.js';
export { preferredMediaTypes, preferredCharsets, preferredEncodings, preferredLanguages } from './accepts.js';
export { typeIs, hasBody } from './type-is.js';
export { compileTrust, forwardedChain, type TrustFn } from './proxy-trust.js';
export { encodeUrl, setCharset, type FormatHandler } from './response.js';
export { etag, compileEtag, type EtagFunction, type EtagOptions, type StatLike } from './etag.js';
export { contentDisposition, encodeExtValue, type ContentDispositionOptions } from './content-disposition.js';
export { serializeCookie, type CookieOptions } from './set-cookie.js';
export {
  json, parseJson, urlencoded, text, raw, multipart, parseMultipart, boundaryOf, MultipartParser, createBodyParser,
  readBody, HttpError, httpError, parseBytes,
  type JsonOptions, type UrlencodedOptions, type TextOptions, type MultipartOptions, type UploadedFile,
  type MultipartLimits, type MultipartPart, type MultipartSource, type MultipartHandler, type BodyMiddleware,
  type ParserOptions, type ParserSpec, type BodyRequest, type ReadBodyOptions, type TypeOption,
} from './body/index.js';
