// The numbers of the FastCGI 1.0 specification, named as the spec names them (FCGI_ prefix dropped).

/** Protocol version carried in every record header; anything else is refused. */
export const VERSION_1 = 1;

/** Size of a record header, and of the fixed bodies of BEGIN_REQUEST, END_REQUEST and UNKNOWN_TYPE. */
export const HEADER_LEN = 8;

/** Largest content one record can carry (contentLength is a u16). */
export const MAX_CONTENT_LEN = 65535;

/** Request id of management records (GET_VALUES, UNKNOWN_TYPE ...). */
export const NULL_REQUEST_ID = 0;

/** Record types (header byte 1); also the type of their numbers. */
export const RecordType = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Largest type the spec defines; anything above is an unknown type. */
export const MAX_TYPE = RecordType.UNKNOWN_TYPE;

/** Roles in BEGIN_REQUEST. */
export const Role = {
  RESPONDER: 1,
  AUTHORIZER: 2,
  FILTER: 3,
} as const;
export type RoleNumber = (typeof Role)[keyof typeof Role];

/** protocolStatus in END_REQUEST. */
export const Status = {
  REQUEST_COMPLETE: 0,
  CANT_MPX_CONN: 1,
  OVERLOADED: 2,
  UNKNOWN_ROLE: 3,
} as const;
export type ProtocolStatus = (typeof Status)[keyof typeof Status];

/** Bits of the BEGIN_REQUEST flags byte. */
export const Flags = {
  KEEP_CONN: 1,
} as const;

/** Variable names a GET_VALUES query may ask for. */
export const Values = {
  MAX_CONNS: 'FCGI_MAX_CONNS',
  MAX_REQS: 'FCGI_MAX_REQS',
  MPXS_CONNS: 'FCGI_MPXS_CONNS',
} as const;

/** True for the types whose records form a stream ended by an empty record. */
export function isStreamType(type: number): boolean {
  return (
    type === RecordType.PARAMS ||
    type === RecordType.STDIN ||
    type === RecordType.STDOUT ||
    type === RecordType.STDERR ||
    type === RecordType.DATA
  );
}
