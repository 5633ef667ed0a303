// Where a response keeps its headers: under node:http's own kOutHeaders symbol, in its shape
// (lower-case name -> [name as set, value]), so OutgoingMessage.prototype's header methods called
// with our response as `this` (the `cookies` package does, under Express) read and write the same table.
import { OutgoingMessage } from 'node:http';

/** A stored header as node:http keeps it: the name as first set, and its value(s) as given. */
export type HeaderEntry = [name: string, value: string | number | readonly (string | number)[]];

declare const OUT_HEADERS: unique symbol;

/** node:http's symbol, read once from a fresh OutgoingMessage (our own if a Node version lacks it). */
export const kOutHeaders = (Object.getOwnPropertySymbols(new OutgoingMessage()).find(
  (s) => s.description === 'kOutHeaders',
) ?? Symbol('kOutHeaders')) as typeof OUT_HEADERS;
