// The errors the file sender reports instead of answering itself: the caller decides (a static
// middleware falls through on 404, res.sendFile hands them to next()). Messages are the standard
// status texts only, so an error page never shows a file system path.
import { STATUS_CODES } from 'node:http';

export class SendError extends Error {
  override name = 'SendError';
  status: number;
  statusCode: number;
  /** 4xx messages are safe to show to the client. */
  expose: boolean;
  /** What happened, for callers that branch on it: 'ENOENT', 'EISDIR', 'ECONNABORTED', 'EDOTFILE', ... */
  code: string;
  /** Headers the error response should carry (a 416 carries Content-Range). */
  headers: Record<string, string> | undefined;

  constructor(status: number, code: string, options: { cause?: unknown; headers?: Record<string, string>; message?: string } = {}) {
    super(options.message ?? STATUS_CODES[status] ?? `Error ${status}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = this.statusCode = status;
    this.expose = status < 500;
    this.code = code;
    this.headers = options.headers;
  }
}

/** The status a failed open() or fstat() means: missing things are 404, refused ones 403, the rest 500. */
export function fsError(err: NodeJS.ErrnoException): SendError {
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP':
    case 'EISDIR':
      return new SendError(404, err.code, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new SendError(403, err.code, { cause: err });
    default:
      return new SendError(500, err.code ?? 'EIO', { cause: err });
  }
}
