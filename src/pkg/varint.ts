// Protobuf varints of non-negative numbers below 2^53 (lengths, revisions), and of non-negative
// bigints (leases), for the hand encoders.

/** How many bytes the varint of n takes. */
export function varintSize(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/**
 * Writes the varint of n at off; returns the offset after it. Below 2^31 in 32-bit integer steps:
 * half the time of the division by 128 a number from a Float64Array (revisions) otherwise takes.
 */
export function writeVarint(b: Buffer, off: number, n: number): number {
  if (n <= 0x7fffffff) {
    let x = n | 0;
    while (x >= 0x80) {
      b[off++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[off++] = x;
    return off;
  }
  while (n >= 0x80) {
    b[off++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  b[off++] = n;
  return off;
}

/** How many bytes the varint of a non-negative bigint takes. */
export function bigVarintSize(n: bigint): number {
  let len = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    len++;
  }
  return len;
}

/** Writes the varint of a non-negative bigint at off; returns the offset after it. */
export function writeBigVarint(b: Buffer, off: number, n: bigint): number {
  while (n >= 0x80n) {
    b[off++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  b[off++] = Number(n);
  return off;
}
