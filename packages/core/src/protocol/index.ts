// The FastCGI 1.0 wire format (the public `@fcgi/core/protocol`): constants, records, name-value
// pairs, the incremental parser. Bytes only: no sockets, no timers.
export {
  VERSION_1,
  HEADER_LEN,
  MAX_CONTENT_LEN,
  NULL_REQUEST_ID,
  MAX_TYPE,
  RecordType,
  Role,
  Status,
  Flags,
  Values,
  isStreamType,
  type RoleNumber,
  type ProtocolStatus,
} from './constants.js';
export { protocolError, isProtocolError, type ProtocolErrorCode } from './errors.js';
export {
  paddingFor,
  decodeHeader,
  writeHeader,
  streamRecordsLength,
  writeStreamRecords,
  encodeRecord,
  encodeStream,
  streamRecordViews,
  encodeBeginRequest,
  writeEndRequest,
  encodeEndRequest,
  encodeAbortRequest,
  encodeUnknownType,
  decodeBeginRequest,
  decodeEndRequest,
  type RecordHeader,
  type BeginRequestBody,
  type EndRequestBody,
} from './record.js';
export {
  MAX_NV_LENGTH,
  writeLength,
  encodeNameValues,
  decodeNameValuesTo,
  decodeNameValues,
  type NameValues,
  type NameValueLimits,
  type NameValueSink,
} from './name-value.js';
export { RecordParser, type RecordSink } from './record-parser.js';
export { Dictionary, inheritsNothing } from './dictionary.js';
