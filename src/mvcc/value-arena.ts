// The live values of the key index, kept outside the V8 heap. Under load V8 lets its old generation
// grow to 2-4x the live data between full collections, so every byte kept in the heap costs two to
// four bytes of RSS at peak: 100,000 values of 256 bytes held as strings took ~30 MB of heap and
// ~40 MB of peak RSS more than the same bytes in slabs (docs/benchmarks.md).
//
// A value is copied into a 1 MiB slab (one over a quarter of that gets a slab of its own) and the
// holder (a KeyIndex) records slab, offset and length. Slab bytes are never written twice, so a view
// handed out by view() stays valid for as long as anyone holds it, whatever happens to the key later.
// A replaced or deleted value leaves a hole; a slab with no live value left is dropped at once, and
// once the holes outweigh the live bytes (and 16 MiB), compact() copies the values of the half-empty
// slabs into new ones and drops those slabs.

/** Where a holder's value is; slab NO_VALUE: none (a deleted key), EMPTY: the empty value. */
export interface ValueHolder {
  vSlab: number;
  vOff: number;
  vLen: number;
}

export const NO_VALUE = -1;
const EMPTY = -2;
const EMPTY_BUFFER = Buffer.alloc(0);

export const SLAB_BYTES = 1 << 20;
/** compact() is due once the holes exceed the live bytes and this. */
export const COMPACT_MIN_HOLE_BYTES = 16 << 20;

export class ValueArena {
  private readonly slabs: Array<Buffer | null> = [];
  /** Per slab: bytes written, and bytes of live values among them. */
  private readonly written: number[] = [];
  private readonly used: number[] = [];
  /** Numbers of dropped slabs, for reuse. */
  private readonly spareSlots: number[] = [];
  /** The slab small values are appended to (-1: none yet). */
  private cur = -1;
  private liveBytes = 0;
  private holeBytes = 0;
  /** Memory given by adopt(), taken a slab at a time before any is allocated. */
  private spare: Buffer[] = [];
  /** Per buffer adopted: bytes offered and bytes taken as slabs (until releaseSpare). */
  private readonly donors = new Map<ArrayBufferLike, { offered: number; taken: number }>();

  set(h: ValueHolder, bytes: Uint8Array): void {
    this.clear(h);
    const n = bytes.length;
    if (n === 0) {
      h.vSlab = EMPTY;
      h.vOff = 0;
      h.vLen = 0;
      return;
    }
    let s: number;
    if (n > SLAB_BYTES / 4) s = this.newSlab(n);
    else {
      s = this.cur;
      if (s < 0 || this.written[s]! + n > SLAB_BYTES) {
        const old = s;
        s = this.cur = this.newSlab(SLAB_BYTES);
        if (old >= 0 && this.used[old] === 0) this.drop(old);
      }
    }
    const off = this.written[s]!;
    this.slabs[s]!.set(bytes, off);
    this.written[s] = off + n;
    this.used[s]! += n;
    this.liveBytes += n;
    h.vSlab = s;
    h.vOff = off;
    h.vLen = n;
  }

  /** Forget the holder's value (it becomes NO_VALUE). */
  clear(h: ValueHolder): void {
    const s = h.vSlab;
    h.vSlab = NO_VALUE;
    if (s < 0) return;
    this.used[s]! -= h.vLen;
    this.liveBytes -= h.vLen;
    this.holeBytes += h.vLen;
    if (this.used[s] === 0 && s !== this.cur) this.drop(s);
  }

  /** The holder's value: a view of the slab, never written again (an empty Buffer for EMPTY). */
  view(h: ValueHolder): Buffer {
    if (h.vSlab === EMPTY) return EMPTY_BUFFER;
    if (h.vSlab < 0) throw new Error('mvcc: no value to view');
    return this.slabs[h.vSlab]!.subarray(h.vOff, h.vOff + h.vLen);
  }

  /** The slabs by number as they are now (a copy: values viewed through it stay as they were). */
  slabRefs(): readonly (Buffer | null)[] {
    return this.slabs.slice();
  }

  compactionDue(): boolean {
    return this.holeBytes > COMPACT_MIN_HOLE_BYTES && this.holeBytes > this.liveBytes;
  }

  /** Moves the values of every slab under half full into new slabs; `all` must yield every holder. */
  compact(all: Iterable<ValueHolder>): void {
    const sparse = new Set<number>();
    for (let s = 0; s < this.slabs.length; s++) {
      if (this.slabs[s] && s !== this.cur && this.used[s]! * 2 < this.slabs[s]!.length) sparse.add(s);
    }
    if (sparse.size === 0) return;
    for (const h of all) if (sparse.has(h.vSlab)) this.set(h, this.view(h));
  }

  /** Bytes in slabs, of live values, and of holes (for tests and metrics). */
  usage(): { slabBytes: number; liveBytes: number; holeBytes: number } {
    let slabBytes = 0;
    for (const b of this.slabs) slabBytes += b ? b.length : 0;
    return { slabBytes, liveBytes: this.liveBytes, holeBytes: this.holeBytes };
  }

  /**
   * Memory the arena may take its next slabs from instead of allocating them: buffers whose pages
   * are already resident and that nothing else reads or writes any more (a restart's WAL segments
   * once replayed: reusing them saves touching as many fresh pages, ~12 us each on a VM). A slab
   * keeps its whole buffer alive: see releaseSpare.
   */
  adopt(regions: readonly Buffer[]): void {
    for (const r of regions) {
      if (r.length < SLAB_BYTES) continue;
      this.spare.push(r);
      const d = this.donors.get(r.buffer) ?? { offered: 0, taken: 0 };
      d.offered += r.length;
      this.donors.set(r.buffer, d);
    }
  }

  /**
   * Stops taking adopted memory. Values in slabs cut from a buffer of which less than half was
   * taken are copied into slabs of their own, so that the buffer can go: its resident pages would
   * otherwise outweigh the values they hold (a WAL of 64 MB for a few keys). `all` yields every holder.
   */
  releaseSpare(all: Iterable<ValueHolder>): void {
    this.spare = [];
    const sparse = new Set<ArrayBufferLike>();
    for (const [buf, d] of this.donors) if (d.taken * 2 < d.offered) sparse.add(buf);
    this.donors.clear();
    if (sparse.size === 0) return;
    const moving = new Set<number>();
    this.slabs.forEach((b, s) => b && sparse.has(b.buffer) && moving.add(s));
    if (moving.has(this.cur)) this.cur = -1; // new values must not go into it either
    for (const h of all) if (moving.has(h.vSlab)) this.set(h, this.view(h));
  }

  private newSlab(size: number): number {
    const s = this.spareSlots.pop() ?? this.slabs.length;
    this.slabs[s] = this.spareSlab(size) ?? Buffer.allocUnsafeSlow(size);
    this.written[s] = 0;
    this.used[s] = 0;
    return s;
  }

  private drop(s: number): void {
    this.holeBytes -= this.written[s]! - this.used[s]!;
    this.slabs[s] = null;
    this.spareSlots.push(s);
  }

  /** A slab of `size` bytes cut from the adopted memory, if there is that much left in one piece. */
  private spareSlab(size: number): Buffer | undefined {
    while (this.spare.length > 0) {
      const r = this.spare[this.spare.length - 1]!;
      if (r.length >= size) {
        this.spare[this.spare.length - 1] = r.subarray(size);
        this.donors.get(r.buffer)!.taken += size;
        return r.subarray(0, size);
      }
      this.spare.pop();
    }
    return undefined;
  }
}
