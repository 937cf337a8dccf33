/*
 * ByteArena: copies small byte strings that live long and die in the order they were made (raft log
 * entry data) side by side into shared chunks, and hands out Buffer views of the copies.
 *
 * Why: a small Buffer from Buffer.allocUnsafe (protobufjs encodes into one, so does much of gRPC) is a
 * slice of Node's shared 8 KiB pool slab, and one live slice keeps its whole slab alive. The raft log
 * keeps up to --snapshot-count entries, each a slice of a slab also shared with per-request garbage:
 * measured ~790 bytes of ArrayBuffer kept per 290-byte entry. Copied here, a chunk holds only entry
 * data, and because entries are dropped oldest first (log compaction), a chunk is freed as a whole
 * soon after its last entry goes. Giving every entry its own ArrayBuffer instead costs ~200 bytes of
 * bookkeeping per entry (V8 backing store, malloc header) and a malloc call each.
 */

/** Bytes per chunk: big enough to amortize the chunk's own allocation, small enough that a chunk
 *  kept alive by one stray view wastes little. */
export const ARENA_CHUNK_BYTES = 16 * 1024;

export class ByteArena {
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly chunkBytes = ARENA_CHUNK_BYTES) {}

  /** A copy of src as a Buffer view into the current chunk (a Buffer of its own when large). */
  copy(src: Uint8Array): Buffer {
    const n = src.length;
    if (n > this.chunkBytes >>> 2) {
      const own = Buffer.allocUnsafeSlow(n);
      own.set(src);
      return own;
    }
    if (this.used + n > this.chunk.length) {
      // allocUnsafeSlow: outside the shared pool (the point of the arena); every byte handed out is written.
      this.chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + n);
    out.set(src);
    this.used += n;
    return out;
  }
}
