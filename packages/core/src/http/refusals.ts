// What the client reads when the connection ends a request itself (params too large, overloaded,
// timed out): a CGI header block and a short plain-text body each.
import type { Refusal } from '../connection/index.js';

const ANSWERS: Readonly<Record<Refusal, string>> = {
  'params-too-large':
    'Status: 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\n\r\nRequest params too large\n',
  overloaded:
    'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n\r\nServer overloaded\n',
  'request-timeout': 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nRequest timed out\n',
  'params-timeout': 'Status: 408 Request Timeout\r\nContent-Type: text/plain\r\n\r\nRequest params timed out\n',
  'body-timeout': 'Status: 408 Request Timeout\r\nContent-Type: text/plain\r\n\r\nRequest body timed out\n',
};

/** The response (latin1) for a request the connection ended itself because of `why`. */
export function refusalAnswer(why: Refusal): string {
  return ANSWERS[why];
}
