// Each app's own `app.request` and `app.response`: the objects its requests and responses inherit
// from, where an app or a plugin adds helpers (`app.response.sendOk = function () {...}`), as in
// Express. They are the prototypes of a request and a response class made for the app, so the
// server creates the top app's requests on them directly and pays nothing per request; a mounted
// app swaps them in while the request is inside it, as Express's mounted apps do.
import { EventEmitter } from 'node:events';
import { AppRequest } from './request.js';
import { AppResponse } from './response.js';

export interface AppClasses {
  Request: typeof AppRequest;
  Response: typeof AppResponse;
}

/** A request and a response class of the app's own, whose prototypes are app.request and app.response. */
export function appClasses(): AppClasses {
  return {
    Request: class Request extends AppRequest {},
    Response: class Response extends AppResponse {},
  };
}

interface Extensible {
  request: object;
  response: object;
}

/**
 * On mounting, as Express: the sub-app's request and response fall back to its parent's, so
 * helpers the parent added are there inside the sub-app too, unless the sub-app has its own.
 */
export function inheritExtensions(sub: Extensible, parent: Extensible): void {
  if (sub.request !== parent.request) Object.setPrototypeOf(sub.request, parent.request);
  if (sub.response !== parent.response) Object.setPrototypeOf(sub.response, parent.response);
}

/**
 * Gives the app's prototypes to a request entering it; returns what to put back when it leaves
 * (undefined when nothing changed: the server made the request from this app's classes).
 */
export function enterExtensions(req: object, res: object, app: Extensible): [object, object] | undefined {
  const reqProto = Object.getPrototypeOf(req) as object;
  const resProto = Object.getPrototypeOf(res) as object;
  if (reqProto === app.request && resProto === app.response) return undefined;
  Object.setPrototypeOf(req, app.request);
  Object.setPrototypeOf(res, app.response);
  return [reqProto, resProto];
}

/** Puts back the prototypes enterExtensions() replaced. */
export function leaveExtensions(req: object, res: object, saved: [object, object]): void {
  Object.setPrototypeOf(req, saved[0]);
  Object.setPrototypeOf(res, saved[1]);
}

/**
 * EventEmitter's methods on the apps' prototype (an app is a function, so it cannot extend
 * EventEmitter): app.on('mount', fn), app.emit(), app.once()..., as Express mixes them in.
 */
export function addEventMethods(proto: object): void {
  for (const name of Object.getOwnPropertyNames(EventEmitter.prototype)) {
    if (name === 'constructor' || name in proto) continue;
    Object.defineProperty(proto, name, Object.getOwnPropertyDescriptor(EventEmitter.prototype, name)!);
  }
}
