// Protobuf varints of non-negative numbers below 2^53 (lengths, revisions), for the hand encoders.

/** How many bytes the varint of n takes. */
export function varintSize(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes the varint of n at off; returns the offset after it. */
export function writeVarint(b: Buffer, off: number, n: number): number {
  while (n >= 0x80) {
    b[off++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  b[off++] = n;
  return off;
}
