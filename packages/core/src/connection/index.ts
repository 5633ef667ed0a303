// Connections: records in, request state machines, records out.
export { Connection, type ConnectionOptions, type RequestLoad } from './connection.js';
export { Exchange, type ExchangeHost, type Refusal } from './exchange.js';
export { defaultConnectionLimits, type ConnectionLimits } from './limits.js';
export type { TimeoutCode } from './timeouts.js';
