// Body parsers as middleware (Express 5 / body-parser semantics) and streaming multipart/form-data.
export { json, parseJson, type JsonOptions } from './json.js';
export { urlencoded, type UrlencodedOptions } from './urlencoded.js';
export { text, type TextOptions } from './text.js';
export { raw } from './raw.js';
export { multipart, type MultipartOptions, type UploadedFile } from './multipart.js';
export {
  parseMultipart,
  boundaryOf,
  type MultipartLimits,
  type MultipartPart,
  type MultipartSource,
} from './multipart-reader.js';
export { MultipartParser, type MultipartHandler } from '../../semantics/index.js';
export { createBodyParser, type BodyMiddleware, type ParserOptions, type ParserSpec } from './body-parser.js';
export { readBody, type BodyRequest, type ReadBodyOptions } from './read-body.js';
export { bodyError, isBodyError, type BodyError } from './http-error.js';
export { parseBytes } from '../../semantics/index.js';
export type { TypeOption } from './media-type.js';
