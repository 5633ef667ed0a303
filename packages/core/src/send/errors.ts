// The errors the file sender reports instead of answering itself: the caller decides (a static
// middleware falls through on 404, res.sendFile hands them to next()). Messages are the standard
// status texts only, so an error page never shows a file system path.
import { STATUS_CODES } from 'node:http';
import { FcgiError } from '../errors.js';

/**
 * An error of the file sender: FcgiError, the one error type, whose code says what happened
 * ('ENOENT', 'EISDIR', 'ECONNABORTED', 'EDOTFILE', ...), for callers that branch on it; a 416
 * carries its Content-Range in `headers`.
 */
export function sendError(
  status: number,
  code: string,
  options: { cause?: unknown; headers?: Record<string, string>; message?: string } = {},
): FcgiError {
  return new FcgiError(code, options.message ?? STATUS_CODES[status] ?? `Error ${status}`, {
    status,
    cause: options.cause,
    headers: options.headers,
  });
}

/** The status a failed open() or fstat() means: missing things are 404, refused ones 403, the rest 500. */
export function fsError(err: NodeJS.ErrnoException): FcgiError {
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP':
    case 'EISDIR':
      return sendError(404, err.code, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return sendError(403, err.code, { cause: err });
    default:
      return sendError(500, err.code ?? 'EIO', { cause: err });
  }
}
