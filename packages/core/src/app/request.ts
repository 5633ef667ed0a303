// The request an app's middleware sees: the core request plus what the chain fills in, and the
// Express 5 helpers (get, is, accepts*, ip, host, protocol, fresh, cookies, ...).
// Helpers live on the prototype and keep no #private state, so a request of the plain core class
// can be upgraded in place (see upgrade() in application.ts). Every helper is computed only when
// read: a request that never asks costs nothing.
import { isIP } from 'node:net';
import { parseCookie } from 'cookie';
import rangeParser from 'range-parser';
import { FcgiRequest, type Transport } from '../http/index.js';
import type { AppContext } from './contracts.js';
import { SIGNED_PREFIX, forwardedChain, trustFor, unsign, type TrustFn } from '../semantics/index.js';
import type { AppResponse } from './response.js';
import type { NextFunction } from './contracts.js';
import { simpleQuery, type QueryParser } from './settings.js';
import {
  acceptsCharsets,
  acceptsEncodings,
  acceptsLanguages,
  acceptsTypes,
  isFresh,
  requestTypeIs,
  type Offered,
} from '../semantics/index.js';

/** What req.range() gives (range-parser's answer): the ranges with their unit, or -1 (unsatisfiable) / -2 (malformed). */
export type RequestRanges = ({ start: number; end: number }[] & { type: string }) | -1 | -2;

export class AppRequest extends FcgiRequest {
  /** Route parameters, filled by a router. */
  params: Record<string, any> = {};
  /** Set by body parsers. */
  body: any = undefined;
  /** The app handling the request now. */
  app!: AppContext;
  res!: AppResponse;
  /** The current middleware's next(), as Express's router sets it (res.format() passes errors to it). */
  next: NextFunction | undefined = undefined;

  // -- Query --

  /**
   * The query string parsed by the app's 'query parser': node:querystring ('simple', the default),
   * qs ('extended'), your function, or `{}` when it is false. Parsed once per request and parser
   * (Express parses again at each read); assignable.
   */
  override get query(): Record<string, any> {
    const parse = setting(this.app, 'query parser fn') as QueryParser | undefined;
    if (parse === simpleQuery || (parse === undefined && setting(this.app, 'query parser') !== false)) {
      return super.query;
    }
    if (typeof parse !== 'function') return {};
    const cached = (this as Cached)[QUERY];
    if (cached?.parse === parse) return cached.value;
    const value = parse(queryString(this.environ.QUERY_STRING, this.url));
    (this as Cached)[QUERY] = { parse, value };
    return value;
  }

  override set query(value: Record<string, any>) {
    Object.defineProperty(this, 'query', { value, writable: true, enumerable: true, configurable: true });
  }

  // -- Headers --

  /** A request header by any case of its name; Referer and Referrer are the same header. */
  get(name: string): string | undefined {
    if (!name) throw new TypeError('name argument is required to req.get');
    if (typeof name !== 'string') throw new TypeError('name must be a string to req.get');
    const lc = name.toLowerCase();
    if (lc === 'referer' || lc === 'referrer') return this.headers.referrer || this.headers.referer;
    return this.headers[lc];
  }

  /** Same as get(). */
  header(name: string): string | undefined {
    return this.get(name);
  }

  /**
   * The first of `types` the body's Content-Type matches ('json', 'text/*', '+json', ...): the
   * type as given, or the actual type for wildcards and suffixes; false when none matches; null
   * when the request has no body. With no types, the Content-Type without parameters.
   */
  is(...types: Offered): string | false | null {
    return requestTypeIs(this.headers, flatten(types));
  }

  /**
   * The Range header parsed for a representation of `size` bytes, by range-parser as in Express:
   * an array of { start, end } (inclusive) with `type` ('bytes'), -1 when unsatisfiable, -2 when
   * malformed, undefined without a Range. `combine` merges overlapping and adjacent ranges.
   */
  range(size: number, options?: { combine?: boolean }): RequestRanges | undefined {
    const header = this.get('Range');
    return header ? rangeParser(size, header, options) : undefined;
  }

  // -- Content negotiation --

  /** The best of `types` for the Accept header (false if none); with no types, all it accepts. */
  accepts(): string[];
  accepts(...types: Offered): string | false;
  accepts(...types: Offered): string | string[] | false {
    return acceptsTypes(this.headers.accept, types);
  }

  acceptsEncodings(): string[];
  acceptsEncodings(...encodings: Offered): string | false;
  acceptsEncodings(...encodings: Offered): string | string[] | false {
    return acceptsEncodings(this.headers['accept-encoding'], encodings);
  }

  acceptsCharsets(): string[];
  acceptsCharsets(...charsets: Offered): string | false;
  acceptsCharsets(...charsets: Offered): string | string[] | false {
    return acceptsCharsets(this.headers['accept-charset'], charsets);
  }

  acceptsLanguages(): string[];
  acceptsLanguages(...languages: Offered): string | false;
  acceptsLanguages(...languages: Offered): string | string[] | false {
    return acceptsLanguages(this.headers['accept-language'], languages);
  }

  // -- Where the request came from --

  /**
   * 'https' when the web server says so (HTTPS=on, REQUEST_SCHEME=https), else 'http'; when the
   * web server's peer is a trusted proxy, its X-Forwarded-Proto (first value) instead.
   */
  get protocol(): string {
    const env = this.environ;
    const https = env.HTTPS?.toLowerCase();
    const own = https === 'on' || https === '1' || env.REQUEST_SCHEME?.toLowerCase() === 'https' ? 'https' : 'http';
    if (!trustOf(this)(env.REMOTE_ADDR ?? '', 0)) return own;
    const header = this.headers['x-forwarded-proto'] || own;
    const comma = header.indexOf(',');
    return (comma < 0 ? header : header.slice(0, comma)).trim();
  }

  /** protocol === 'https'. */
  get secure(): boolean {
    return this.protocol === 'https';
  }

  /**
   * The client's address: REMOTE_ADDR, or with 'trust proxy' the last untrusted address along
   * X-Forwarded-For (proxy-addr's walk).
   */
  get ip(): string | undefined {
    const chain = forwardedChain(this.environ.REMOTE_ADDR ?? '', this.headers['x-forwarded-for'], trustOf(this));
    return chain[chain.length - 1] || undefined;
  }

  /** With 'trust proxy': the client, then each trusted proxy, farthest first; else []. */
  get ips(): string[] {
    const chain = forwardedChain(this.environ.REMOTE_ADDR ?? '', this.headers['x-forwarded-for'], trustOf(this));
    chain.reverse().pop();
    return chain;
  }

  /** The Host header (port included), or X-Forwarded-Host's first value when the peer is trusted. */
  get host(): string | undefined {
    let value = this.headers['x-forwarded-host'];
    if (!value || !trustOf(this)(this.environ.REMOTE_ADDR ?? '', 0)) value = this.headers.host;
    else if (value.includes(',')) value = value.slice(0, value.indexOf(',')).trimEnd();
    return value || undefined;
  }

  /** host without the port; an IPv6 literal keeps its brackets ('[::1]'). */
  get hostname(): string | undefined {
    const host = this.host;
    if (!host) return undefined;
    const from = host[0] === '[' ? host.indexOf(']') + 1 : 0;
    const colon = host.indexOf(':', from);
    return colon < 0 ? host : host.slice(0, colon);
  }

  /** The hostname's labels before the app's domain, nearest first ('subdomain offset', default 2). */
  get subdomains(): string[] {
    const hostname = this.hostname;
    if (!hostname) return [];
    const offset = setting(this.app, 'subdomain offset') ?? 2;
    // An IP address has no subdomains (a bracketed IPv6 literal has no dots to split).
    const labels = isIP(hostname) ? [hostname] : hostname.split('.').reverse();
    return labels.slice(Number(offset));
  }

  /** Sent by XMLHttpRequest-era clients: X-Requested-With: XMLHttpRequest. */
  get xhr(): boolean {
    return (this.headers['x-requested-with'] ?? '').toLowerCase() === 'xmlhttprequest';
  }

  // -- Caching --

  /**
   * The client's cached copy is current: for GET/HEAD with a 2xx or 304 status, the request's
   * If-None-Match / If-Modified-Since match the response's ETag / Last-Modified as set so far.
   */
  get fresh(): boolean {
    if (this.method !== 'GET' && this.method !== 'HEAD') return false;
    const res = this.res;
    const status = res.statusCode;
    if ((status < 200 || status >= 300) && status !== 304) return false;
    return isFresh(this.headers, {
      etag: headerString(res.getHeader('etag')),
      'last-modified': headerString(res.getHeader('last-modified')),
    });
  }

  get stale(): boolean {
    return !this.fresh;
  }

  // -- Cookies (what cookie-parser gives, without the middleware) --
  //
  // The app parses cookies itself only when asked to: the 'cookie parser' setting is true, or it
  // is unset and a 'cookie secret' is set. Otherwise req.cookies stays undefined as under Express,
  // so cookie-parser (which skips a request whose req.cookies is truthy) runs and assigns
  // req.secret, req.cookies and req.signedCookies with its own secret. With the app's parsing on,
  // the first read parses the Cookie header once and stores both results as own data properties
  // of the request; those shadow these accessors, so later reads are plain property reads, and a
  // cookie-parser placed in such an app finds req.cookies set and does nothing.
  // An assignment (cookie-parser's, or a middleware's) defines the own property and nothing else:
  // the setters exist only because assigning to a getter-only accessor throws in strict mode.

  /**
   * Cookies from the Cookie header ('j:' JSON values parsed). With a secret, signed values
   * ('s:...') are left out: they are in signedCookies. Undefined unless the app parses cookies
   * (see above) or a middleware assigned them.
   */
  get cookies(): Record<string, any> {
    if (!parsesCookies(this.app)) return undefined as unknown as Record<string, any>;
    return this.parseCookies().cookies;
  }

  set cookies(value: Record<string, any>) {
    defineOwn(this, 'cookies', value);
  }

  /** Signed cookies verified with the secret(s): the value, or false when the signature is wrong. */
  get signedCookies(): Record<string, any> {
    if (!parsesCookies(this.app)) return undefined as unknown as Record<string, any>;
    return this.parseCookies().signedCookies;
  }

  set signedCookies(value: Record<string, any>) {
    defineOwn(this, 'signedCookies', value);
  }

  /** The secret that signs cookies: as assigned (cookie-parser does), else the first 'cookie secret'. */
  get secret(): string | undefined {
    return settingSecrets(this.app)[0];
  }

  set secret(value: string | undefined) {
    defineOwn(this, 'secret', value);
  }

  /**
   * Writes one line to the web server's error log (FCGI_STDERR; stderr as CGI): the values
   * formatted like console.log, after the time and the request's id, method and URL (as res.err()).
   */
  log(...values: unknown[]): void {
    this.res.err(...values);
  }

  /**
   * Parses the Cookie header once and defines `cookies` and `signedCookies` as own properties
   * (each one not assigned already); returns the request's two objects.
   */
  private parseCookies(): { cookies: Record<string, any>; signedCookies: Record<string, any> } {
    const header = this.headers.cookie;
    const cookies: Record<string, any> = header ? parseCookie(header) : Object.create(null);
    const signed: Record<string, any> = Object.create(null);
    const secrets = settingSecrets(this.app);
    const assigned = Object.hasOwn(this, 'secret') ? this.secret : undefined;
    if (assigned && !secrets.includes(assigned)) secrets.unshift(assigned);
    if (secrets.length > 0) {
      for (const name of Object.keys(cookies)) {
        const value = cookies[name];
        if (typeof value !== 'string' || !value.startsWith(SIGNED_PREFIX)) continue;
        signed[name] = unsign(value.slice(SIGNED_PREFIX.length), secrets);
        delete cookies[name];
      }
      parseJsonCookies(signed);
    }
    parseJsonCookies(cookies);
    if (!Object.hasOwn(this, 'cookies')) defineOwn(this, 'cookies', cookies);
    if (!Object.hasOwn(this, 'signedCookies')) defineOwn(this, 'signedCookies', signed);
    return this as { cookies: Record<string, any>; signedCookies: Record<string, any> };
  }
}

const QUERY = Symbol('query');

/** The query as the app's own parser gave it, kept with the parser that made it. */
type Cached = { [QUERY]?: { parse: QueryParser; value: Record<string, any> } };

/**
 * The query string as the 'simple' parser reads it (QUERY_STRING, else what follows the URL's '?'),
 * but null when the URL has no '?': what Express gives a query parser then.
 */
function queryString(env: string | undefined, url: string): string | null {
  const q = typeof url === 'string' ? url.indexOf('?') : -1;
  if (env !== undefined && env !== '') return env;
  if (q < 0) return null;
  return env === '' ? '' : url.slice(q + 1);
}

/** A plain, writable own property: it shadows the prototype's accessor of the same name. */
function defineOwn(req: AppRequest, name: 'cookies' | 'signedCookies' | 'secret', value: unknown): void {
  Object.defineProperty(req, name, { value, writable: true, enumerable: true, configurable: true });
}

/** Does the app parse cookies itself: 'cookie parser' true, or unset with a 'cookie secret'? */
function parsesCookies(app: AppContext | undefined): boolean {
  const on = setting(app, 'cookie parser');
  return on === undefined ? settingSecrets(app).length > 0 : Boolean(on);
}

function flatten(args: Offered): string[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...args[0]] : (args as string[]);
}

/** A setting of the app, or of the apps it is mounted in when it has none of its own. */
function setting(app: AppContext | undefined, name: string): any {
  for (let a = app; a; a = a.parent) {
    if (a.settings && name in a.settings) return a.settings[name];
  }
  return undefined;
}

/** 'trust proxy fn' as app.set() compiled it, else the 'trust proxy' value compiled. */
function trustOf(req: AppRequest): TrustFn {
  const fn = setting(req.app, 'trust proxy fn');
  return typeof fn === 'function' ? (fn as TrustFn) : trustFor(setting(req.app, 'trust proxy'));
}

/** The 'cookie secret' setting as a list (a string or an array of strings). */
function settingSecrets(app: AppContext | undefined): string[] {
  const value = setting(app, 'cookie secret');
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s !== '');
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** 'j:' values parsed as JSON in place, as cookie-parser does (a falsy or malformed result keeps the text). */
function parseJsonCookies(cookies: Record<string, any>): void {
  for (const name of Object.keys(cookies)) {
    const value = cookies[name];
    if (typeof value !== 'string' || !value.startsWith('j:')) continue;
    try {
      const parsed = JSON.parse(value.slice(2));
      if (parsed) cookies[name] = parsed;
    } catch {
      // not JSON after all: keep the text
    }
  }
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
