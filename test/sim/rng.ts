// A small seeded PRNG (splitmix32 over a 32-bit state): deterministic across runs and platforms.

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 ^ 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x9e3779b9) | 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** A derived independent generator (for a node's election jitter). */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
}
