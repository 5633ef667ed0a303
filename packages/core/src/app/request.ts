// The request an app's middleware sees: the core request plus what the chain fills in.
// Helpers live on the prototype and keep no #private state, so a request of the plain core class
// can be upgraded in place (see upgrade() in application.ts).
import type { Exchange } from '../connection/index.js';
import { FcgiRequest } from '../http/index.js';
import type { App } from './application.js';
import type { AppResponse } from './response.js';

export class AppRequest extends FcgiRequest {
  /** Route parameters, filled by a router. */
  params: Record<string, any> = {};
  /** The path prefix of the app or router this request is inside of ('' at the top). */
  baseUrl = '';
  /** The URL as it arrived, before any mount point was stripped from `url`. */
  originalUrl: string;
  /** Set by body parsers. */
  body: any = undefined;
  /** The app handling the request now. */
  app!: App;
  res!: AppResponse;

  constructor(exchange: Exchange, highWaterMark: number) {
    super(exchange, highWaterMark);
    this.originalUrl = this.url;
  }
}
