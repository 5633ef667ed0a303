// The one error type of the protocol layer: the bytes received break the spec or a limit.

/** `MALFORMED`: the bytes break FastCGI 1.0. `LIMIT`: they are well formed but exceed a configured limit. */
export type ProtocolErrorCode = 'MALFORMED' | 'LIMIT';

export class ProtocolError extends Error {
  override name = 'FastCGIProtocolError';
  readonly code: ProtocolErrorCode;
  constructor(message: string, code: ProtocolErrorCode = 'MALFORMED') {
    super(message);
    this.code = code;
  }
}
