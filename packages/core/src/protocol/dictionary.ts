// The objects params and headers are decoded into. They must inherit nothing (a param named
// `toString` or `__proto__` is just a pair), but Object.create(null) puts V8 in dictionary mode
// from the start, and building those was a tenth of a hello's time. Objects made by a
// constructor whose prototype is itself prototype-less inherit nothing too, and keep fast
// properties (the same params come in the same order, so they share hidden classes).

/** `new Dictionary()`: an empty object that inherits no property. */
export const Dictionary = function Dictionary() {} as unknown as new <T = string>() => Record<string, T>;
Dictionary.prototype = Object.create(null) as object;

/** True when `o` inherits no property: made by `new Dictionary()` or `Object.create(null)`. */
export function inheritsNothing(o: object): boolean {
  const proto = Object.getPrototypeOf(o) as object | null;
  return proto === null || (Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto).length === 0);
}
