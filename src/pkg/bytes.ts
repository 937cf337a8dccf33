// Byte-string helpers with etcd's meaning of range ends.

/** Lexicographic compare of two byte strings: <0, 0, >0. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * The smallest key greater than every key with the given prefix: the prefix with its last byte below
 * 0xff incremented and the rest dropped. A prefix of only 0xff bytes has no end: returns [0] ("\0"),
 * which etcd reads as "to the end of the key space".
 */
export function prefixEnd(prefix: Uint8Array): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = prefix[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/**
 * `text` in UTF-8 with every byte `keep` refuses written as %XX (upper-case hex), as Go's escapers
 * (URL paths, grpc-message) write them.
 */
export function percentEncode(text: string, keep: (byte: number) => boolean): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += keep(b) ? String.fromCharCode(b) : `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  return out;
}

/**
 * The bytes of `chunks` cut into pieces of `pieceBytes` (the last one shorter): views of a chunk
 * where a piece lies within one, a copy where it spans two.
 */
export async function* fixedPieces(chunks: AsyncIterable<Uint8Array>, pieceBytes: number): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined; // a piece being filled across chunks
  let carried = 0;
  for await (const c of chunks) {
    const chunk = Buffer.from(c.buffer, c.byteOffset, c.length);
    let off = 0;
    if (carry) {
      const n = Math.min(pieceBytes - carried, chunk.length);
      chunk.copy(carry, carried, 0, n);
      carried += n;
      off = n;
      if (carried < pieceBytes) continue;
      yield carry;
      carry = undefined;
    }
    for (; off + pieceBytes <= chunk.length; off += pieceBytes) yield chunk.subarray(off, off + pieceBytes);
    if (off < chunk.length) {
      carry = Buffer.allocUnsafe(pieceBytes);
      carried = chunk.copy(carry, 0, off);
    }
  }
  if (carry) yield carry.subarray(0, carried);
}

/** n (a safe integer) as 8 bytes big-endian at b[at..]. */
export function writeU64BE(b: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  b[at] = hi >>> 24;
  b[at + 1] = (hi >>> 16) & 0xff;
  b[at + 2] = (hi >>> 8) & 0xff;
  b[at + 3] = hi & 0xff;
  b[at + 4] = lo >>> 24;
  b[at + 5] = (lo >>> 16) & 0xff;
  b[at + 6] = (lo >>> 8) & 0xff;
  b[at + 7] = lo & 0xff;
}
