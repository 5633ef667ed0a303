// A FastCGI client: talk to PHP-FPM, Go's net/http/fcgi or any FastCGI application as a web server does.
export { FcgiClient, type FcgiClientOptions, type FcgiRequestOptions } from './client.js';
export { FcgiClientResponse, type EndRequest, type FcgiClientResponseEvents } from './response.js';
export { ClientErrorCode, type ClientErrorCodeName } from './errors.js';
export type { CgiHead } from './cgi-response.js';
export type { ClientTarget } from './client-connection.js';
export type { RequestBody, RequestParams } from './params.js';
export type { PoolStats } from './pool.js';
export { inject, type InjectInit } from './in-process.js';
