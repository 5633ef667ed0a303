// The protocol layer's errors: FcgiError, the one error type, with one of two codes. MALFORMED: the
// bytes break FastCGI 1.0. LIMIT: they are well formed but exceed a configured limit.
import { ErrorCode, FcgiError } from '../errors.js';

export type ProtocolErrorCode = typeof ErrorCode.MALFORMED | typeof ErrorCode.LIMIT;

export function protocolError(message: string, code: ProtocolErrorCode = ErrorCode.MALFORMED): FcgiError {
  return new FcgiError(code, message);
}

/** True for an error the protocol layer raised (either code). */
export function isProtocolError(err: unknown): err is FcgiError {
  return err instanceof FcgiError && (err.code === ErrorCode.MALFORMED || err.code === ErrorCode.LIMIT);
}
