// Seeded randomness for the code that must not read Math.random (raft's election timeout).
/** A small deterministic PRNG (mulberry32) for raft's randomized election timeout. */
export function seededRng(seed: bigint): () => number {
  let a = Number(BigInt.asUintN(32, seed ^ (seed >> 32n)));
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
