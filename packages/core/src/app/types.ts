// The shapes the middleware chain works with.
import type { AppRequest } from './request.js';
import type { AppResponse } from './response.js';

import type { NextFunction } from './contracts.js';

export type { NextFunction };

export type Middleware<Req = AppRequest, Res = AppResponse> = (req: Req, res: Res, next: NextFunction) => unknown;

/** Four parameters, as in Express: runs only when an error is being passed along. */
export type ErrorMiddleware<Req = AppRequest, Res = AppResponse> = (
  err: any,
  req: Req,
  res: Res,
  next: NextFunction,
) => unknown;

/** Anything with a Connect-style `handle`: sub-apps and routers. */
export interface Mountable<Req = AppRequest, Res = AppResponse> {
  handle(req: Req, res: Res, next: NextFunction): unknown;
}

export type Handle = Middleware | ErrorMiddleware | Mountable | ((req: any, res: any, next: NextFunction) => unknown);
