// A small seeded PRNG (mulberry32) with the helpers the fuzzer needs. Deterministic: the same seed
// gives the same inputs on any machine, so a failure reproduces with FUZZ_SEED (and FUZZ_INDEX).

export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** The generator for input `index` of a run seeded `seed`: each input reproducible alone. */
  static forInput(seed: number, index: number): Rng {
    // splitmix-like mixing so neighbouring indexes give unrelated streams.
    let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return new Rng((z ^ (z >>> 16)) >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** Mostly small sizes, sometimes large: the edges (0, 127/128, 65535/65536) are where bugs live. */
  size(max: number): number {
    const r = this.next();
    if (r < 0.5) return this.int(Math.min(max, 16) + 1);
    if (r < 0.8) return this.int(Math.min(max, 300) + 1);
    if (r < 0.9) return Math.min(max, this.pick([127, 128, 129, 255, 256, 8191, 8192, 65535, 65536, 65537]));
    return this.int(max + 1);
  }
}
