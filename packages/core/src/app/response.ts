// The response an app's middleware writes: the core response plus app-level state.
import type { Exchange } from '../connection/index.js';
import { FcgiResponse, type FcgiRequest } from '../http/index.js';
import type { App } from './application.js';
import type { AppRequest } from './request.js';

export class AppResponse extends FcgiResponse {
  /** Values for this request only (templates, later middleware). */
  locals: Record<string, any> = Object.create(null);
  /** The app handling the request now. */
  app!: App;
  declare readonly req: AppRequest;

  constructor(exchange: Exchange, req: FcgiRequest) {
    super(exchange, req);
  }
}
