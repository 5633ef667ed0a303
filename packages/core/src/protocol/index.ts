// The FastCGI 1.0 wire format: constants, records, name-value pairs, the incremental parser.
export * from './constants.js';
export * from './errors.js';
export * from './record.js';
export * from './name-value.js';
export * from './record-parser.js';
export { Dictionary, inheritsNothing } from './dictionary.js';
