// @fcgi/core: the FastCGI 1.0 protocol, connections, the Responder role as req/res, and servers.
export * from './protocol/index.js';
export * from './connection/index.js';
export * from './http/index.js';
export * from './server/index.js';
export { ErrorCode, FcgiError, type ErrorCodeName } from './errors.js';
