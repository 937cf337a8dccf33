/*
 * The bytes of a stream received so far and not yet decoded, kept as the chunks Node delivered
 * (no copy on arrival). Readers take a frame out as one Uint8Array: a view when it lies inside one
 * chunk, else one copy of exactly its bytes, so a frame split over many chunks costs O(its size).
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private ci = 0; // index of the first chunk with unread bytes (chunks before it are spent)
  private head = 0; // offset of the first unread byte in chunks[ci]
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The byte at offset i from the front (i < length). */
  peekByte(i: number): number {
    let k = this.ci;
    i += this.head;
    while (i >= this.chunks[k]!.length) i -= this.chunks[k++]!.length;
    return this.chunks[k]![i]!;
  }

  /** The big-endian uint64 at offset i as a number (exact below 2^53; larger values are only "large"). */
  peekU64(i: number): number {
    let hi = 0;
    let lo = 0;
    for (let j = 0; j < 4; j++) hi = hi * 256 + this.peekByte(i + j);
    for (let j = 4; j < 8; j++) lo = lo * 256 + this.peekByte(i + j);
    return hi * 2 ** 32 + lo;
  }

  /** Removes n bytes (n ≤ length) from the front. */
  skip(n: number): void {
    this.size -= n;
    while (n > 0) {
      const left = this.chunks[this.ci]!.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.ci++;
      this.head = 0;
    }
    if (this.ci === this.chunks.length) {
      this.chunks = [];
      this.ci = 0;
    } else if (this.ci >= 1024) { // drop spent chunks now and then, not on every read
      this.chunks = this.chunks.slice(this.ci);
      this.ci = 0;
    }
  }

  /** Removes and returns the first n bytes (n ≤ length). */
  take(n: number): Uint8Array {
    const first = this.chunks[this.ci];
    if (first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.skip(n);
      return out;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[this.ci]!;
      const m = Math.min(n - off, c.length - this.head);
      out.set(c.subarray(this.head, this.head + m), off);
      off += m;
      this.skip(m);
    }
    return out;
  }

  /** Removes and returns everything left, as the chunks it came in. */
  drain(): Uint8Array[] {
    const out = this.chunks.slice(this.ci);
    if (out.length > 0 && this.head > 0) out[0] = out[0]!.subarray(this.head);
    this.chunks = [];
    this.ci = 0;
    this.head = 0;
    this.size = 0;
    return out;
  }
}
