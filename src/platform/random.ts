// Cryptographic randomness for what must not be guessed (auth tokens).
import { randomInt } from 'node:crypto';

/** A uniform integer in [0, n). */
export function randomUint(n: number): number {
  return randomInt(n);
}
