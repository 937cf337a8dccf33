// The backend's key bucket as the key index knows it, captured at one moment, for a snapshot that
// need not read the whole bucket back from the disk. While no physical compaction is deleting
// revisions, the bucket holds exactly the index's revisions: revision key (main, sub) → the
// mvccpb.KeyValue write-txn.ts stored. Three kinds of entry:
//   - a key's live revision (the last of its last generation): {key, create_revision, mod_revision
//     = main, version, value, lease}, rebuilt here straight into the caller's buffer from the index
//     and the value slabs (the same bytes: kv-codec.ts's encoding);
//   - a tombstone (the last revision of an earlier generation): key (main, sub, 't') → {key};
//   - any other revision (history): its stored bytes, read from the backend as of the capture
//     (Backend.snapshotReader, opened in the same step) by load(), before the sizes are asked for.
//     Held in slabs of their own until the capture is dropped: the history's bytes, not the bucket's.
//
// The capture copies the numbers of every key into typed arrays and keeps the value slabs it points
// into: a slab's bytes are never written twice (value-arena.ts), so the values stay as they were
// whatever the store does afterwards.
import type { Generation, KeyIndex, TreeIndex } from './key-index.js';
import { Bucket, type Backend, type BucketSnapshot } from '../backend/index.js';
import { bigVarintSize, varintSize, writeBigVarint, writeVarint } from '../pkg/varint.js';
import { revBytesLen, writeRevKey } from './revision.js';

const KEY_TAG = 0x0a;
const CREATE_TAG = 0x10;
const MOD_TAG = 0x18;
const VERSION_TAG = 0x20;
const VALUE_TAG = 0x2a;
const LEASE_TAG = 0x30;

/** Entry kinds (LiveRevisions.kind; 0: a live revision). */
const TOMBSTONE = 1;
const STORED = 2;

/** Revisions read from the backend per call, and calls in flight. */
const READ_BATCH = 1000;
const READS_IN_FLIGHT = 2;

/**
 * Keys up to this many bytes are written char by char, values up to this many copied byte by byte;
 * longer ones by Buffer.write and TypedArray.set (a call and a view, ~150 ns: a byte loop's cost
 * at about 30 bytes).
 */
const KEY_LOOP_MAX = 64;
const VALUE_LOOP_MAX = 24;

/** varintSize, with the sizes of the usual numbers answered without a loop. */
function varintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : varintSize(n);
}

/** Entries of one key's full form (every revision of every generation). */
function revisionCount(gens: readonly { revs: number[] }[]): number {
  let n = 0;
  for (const g of gens) n += g.revs.length >>> 1;
  return n;
}

/**
 * A capture's typed arrays, for up to `capacity` entries. A store keeps the last capture's for its
 * next one (CaptureSpare): a capture takes ~60 bytes a key outside V8's heap, and at 1M keys that
 * much new external memory starts a full collection of the member's whole heap in the middle of the
 * save (~0.3 s of CPU on V8's helper threads a save, docs/benchmarks.md). The cost: those bytes stay
 * resident once a first save has written them (~65 MB at 1M keys, a tenth of the member's RSS there).
 */
class CaptureArrays {
  readonly kind: Uint8Array;
  readonly main: Float64Array;
  readonly sub: Float64Array;
  readonly created: Float64Array;
  readonly ver: Float64Array;
  readonly slab: Int32Array;
  readonly off: Uint32Array;
  readonly len: Uint32Array;
  readonly sizes: Uint32Array;
  /** The sort's (revisionOrder). */
  readonly sort: SortScratch;

  constructor(readonly capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.main = new Float64Array(capacity);
    this.sub = new Float64Array(capacity);
    this.created = new Float64Array(capacity);
    this.ver = new Float64Array(capacity);
    this.slab = new Int32Array(capacity);
    this.off = new Uint32Array(capacity);
    this.len = new Uint32Array(capacity);
    this.sizes = new Uint32Array(capacity);
    this.sort = { order: new Uint32Array(capacity), tmp: new Uint32Array(capacity), digit: new Uint16Array(capacity) };
  }
}

/** The arrays of a store's last released capture, for its next (kept while they fit). */
export class CaptureSpare {
  private arrays: CaptureArrays | undefined;

  /** Arrays for `count` entries: the spare ones when they fit, and are not over twice what is needed. */
  take(count: number): CaptureArrays {
    const a = this.arrays;
    this.arrays = undefined;
    if (a !== undefined && a.capacity >= count && a.capacity <= 2 * count + 1024) return a;
    return new CaptureArrays(count + (count >>> 4)); // room for the store to grow a little
  }

  give(a: CaptureArrays): void {
    if (this.arrays === undefined || this.arrays.capacity < a.capacity) this.arrays = a;
  }
}

/**
 * The key bucket's entries in revision (= key) order: entry i has a 17-byte revision key (18 for a
 * tombstone) and a KeyValue as value; write(i, dst, at) puts both (bbolt/writer.ts's EntrySource).
 * Call load() (and wait for it) before anything else.
 */
export class LiveRevisions {
  /** Entry i is capture slot order[i] (null: the slots are in revision order). */
  private order: Uint32Array | null = null;
  private readonly keys: string[];
  private readonly kind: Uint8Array;
  private readonly main: Float64Array;
  private readonly sub: Float64Array;
  private readonly created: Float64Array;
  private readonly ver: Float64Array;
  /** The value's slab (a live value's in the index's arena, a stored KeyValue's in `slabs` past them). */
  private readonly slab: Int32Array;
  private readonly off: Uint32Array;
  private readonly len: Uint32Array;
  private readonly sizes: Uint32Array;
  /** Leases by capture slot, for the keys that have one. */
  private readonly leases = new Map<number, bigint>();
  /** The value slabs as plain Uint8Arrays (their subarray() is cheaper than a Buffer's). */
  private slabs: (Uint8Array | null)[] = [];
  /** The key bucket as of the capture, while stored revisions are still to be read. */
  private reader: BucketSnapshot | null = null;
  /** Entries whose bytes are read from the backend. */
  private storedCount = 0;
  /** Whether the slots are in revision order (else load() sorts them). */
  private sorted = true;

  private released = false;

  /** Every slot's fields are written by the capture before they are read, but for kind (0: live). */
  private constructor(
    readonly count: number,
    private readonly arrays: CaptureArrays,
    private readonly spare: CaptureSpare | undefined,
  ) {
    this.keys = new Array<string>(count);
    this.kind = arrays.kind.subarray(0, count);
    this.kind.fill(0);
    this.main = arrays.main.subarray(0, count);
    this.sub = arrays.sub.subarray(0, count);
    this.created = arrays.created.subarray(0, count);
    this.ver = arrays.ver.subarray(0, count);
    this.slab = arrays.slab.subarray(0, count);
    this.off = arrays.off.subarray(0, count);
    this.len = arrays.len.subarray(0, count);
    this.sizes = arrays.sizes.subarray(0, count);
  }

  /** Done with this capture: its arrays go back to the store for the next one. Nothing may read it after. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.spare?.give(this.arrays);
  }

  /**
   * The key bucket of `index` now, or undefined while `compacting` (revisions are still being
   * deleted: the bucket holds some the index no longer does) or when the index is not in a state
   * the bucket can hold (a key without a live value and no tombstone). History is read from
   * `backend` as it is now (a snapshot opened here: call this in the same step as the reads of the
   * other buckets).
   */
  static capture(index: TreeIndex, compacting: boolean, backend: Backend, spare?: CaptureSpare): LiveRevisions | undefined {
    if (compacting) return undefined;
    let count = 0;
    for (const ki of index.all()) {
      const full = ki.fullForm();
      count += full === null ? 1 : revisionCount(full);
    }
    const c = new LiveRevisions(count, spare?.take(count) ?? new CaptureArrays(count), spare);
    const taken = c.fill(index, backend);
    if (taken === undefined) c.release();
    return taken;
  }

  /** The capture's slots from the index (capture()); undefined when the index is not in a state the bucket can hold. */
  private fill(index: TreeIndex, backend: Backend): LiveRevisions | undefined {
    const count = this.count;
    const f = new Float64Array(4);
    let i = 0;
    let sorted = true;
    let prevMain = -1;
    let prevSub = -1;
    for (const ki of index.all()) {
      const full = ki.fullForm();
      if (full !== null) {
        i = this.addHistory(ki, full, i);
        if (i < 0) return undefined;
        sorted = false; // the key's revisions are apart in revision order
        continue;
      }
      if (!ki.hasValue() || i >= count) return undefined;
      ki.compactFieldsInto(f);
      const main = f[0]!;
      const sub = f[1]!;
      if (main < prevMain || (main === prevMain && sub <= prevSub)) sorted = false;
      prevMain = main;
      prevSub = sub;
      if (!this.setLive(i, ki, main, sub, f[2]!, f[3]!)) return undefined;
      i++;
    }
    if (i !== count) return undefined;
    this.slabs = index.values.slabRefs().map((b) => (b === null ? null : new Uint8Array(b.buffer, b.byteOffset, b.length)));
    this.sorted = sorted; // the sort waits for load(): it needs no more of the index, and this step is long enough
    if (this.storedCount > 0) this.reader = backend.snapshotReader(Bucket.key);
    return this;
  }

  /** Slot i: the live revision of `ki`; false when a number is zero (kv-codec.ts would leave it out). */
  private setLive(i: number, ki: KeyIndex, main: number, sub: number, created: number, ver: number): boolean {
    if (ver === 0 || main === 0 || created === 0) return false;
    const klen = ki.key.length;
    const vlen = ki.vLen;
    this.keys[i] = ki.key;
    this.main[i] = main;
    this.sub[i] = sub;
    this.created[i] = created;
    this.ver[i] = ver;
    this.slab[i] = ki.vSlab;
    this.off[i] = ki.vOff;
    this.len[i] = vlen;
    let size = 1 + varintBytes(klen) + klen + 1 + varintBytes(created) + 1 + varintBytes(main) + 1 + varintBytes(ver);
    if (vlen > 0) size += 1 + varintBytes(vlen) + vlen;
    if (ki.lease) { // 0n is falsy: cheaper than comparing BigInts
      const lease = BigInt.asUintN(64, ki.lease);
      this.leases.set(i, lease);
      size += 1 + bigVarintSize(lease);
    }
    this.sizes[i] = size;
    return true;
  }

  /**
   * Slots from i: every revision of a key in the full form (the last of its last generation live,
   * the last of an earlier one a tombstone, the rest stored). The next slot, or -1 when the key is
   * not in a state the bucket can hold.
   */
  private addHistory(ki: KeyIndex, full: readonly Generation[], i: number): number {
    const last = full.length - 1;
    if (ki.hasValue() && (last < 0 || full[last]!.revs.length === 0)) return -1;
    const key = ki.key;
    for (let gi = 0; gi <= last; gi++) {
      const g = full[gi]!;
      const revs = g.revs;
      for (let j = 0; j < revs.length; j += 2) {
        if (i >= this.count) return -1;
        const main = revs[j]!;
        const sub = revs[j + 1]!;
        if (j === revs.length - 2 && gi === last) {
          if (!ki.hasValue() || !this.setLive(i++, ki, main, sub, g.created, g.ver)) return -1;
          continue;
        }
        this.keys[i] = key;
        this.main[i] = main;
        this.sub[i] = sub;
        if (j < revs.length - 2) {
          this.kind[i] = STORED;
          this.storedCount++;
        } else {
          this.kind[i] = TOMBSTONE;
          this.sizes[i] = 1 + varintBytes(key.length) + key.length;
        }
        i++;
      }
    }
    return i;
  }

  /**
   * Reads the stored revisions (history) from the backend as it was at the capture, in revision
   * order, READ_BATCH at a time; each batch's values are copied into one slab. Throws when one is
   * missing or holds another key (the index did not describe the bucket). Resolves at once without
   * history.
   */
  async load(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    try {
      if (!this.sorted) {
        await new Promise<void>((resolve) => setImmediate(resolve)); // a turn between the capture and the sort
        this.order = revisionOrder(this.main, this.sub, this.arrays.sort);
        this.sorted = true;
      }
      if (reader === null) return;
      const batches: number[][] = [];
      let batch: number[] = [];
      for (let i = 0; i < this.count; i++) {
        const s = this.order === null ? i : this.order[i]!;
        if (this.kind[s] !== STORED) continue;
        batch.push(s);
        if (batch.length === READ_BATCH) {
          batches.push(batch);
          batch = [];
        }
      }
      if (batch.length > 0) batches.push(batch);
      const read = (b: number[]): Promise<(Buffer | undefined)[]> => {
        const all = Buffer.allocUnsafeSlow(b.length * revBytesLen);
        const keys = new Array<Buffer>(b.length);
        for (let j = 0; j < b.length; j++) {
          const at = j * revBytesLen;
          writeRevKey(all, at, this.main[b[j]!]!, this.sub[b[j]!]!);
          keys[j] = all.subarray(at, at + revBytesLen);
        }
        return reader.getMany(keys);
      };
      const inFlight = batches.slice(0, READS_IN_FLIGHT).map(read);
      for (let bi = 0; bi < batches.length; bi++) {
        const values = await inFlight[bi]!;
        if (bi + READS_IN_FLIGHT < batches.length) inFlight.push(read(batches[bi + READS_IN_FLIGHT]!));
        inFlight[bi] = Promise.resolve([]); // let the values go
        this.keep(batches[bi]!, values);
      }
    } finally {
      await reader?.close();
    }
  }

  /** The stored values of slots `slots` into one new slab. */
  private keep(slots: number[], values: (Buffer | undefined)[]): void {
    let total = 0;
    for (let j = 0; j < slots.length; j++) {
      const v = values[j];
      const s = slots[j]!;
      if (v === undefined || !holdsKey(v, this.keys[s]!)) {
        throw new Error(`snapshot: revision ${this.main[s]}_${this.sub[s]} of key ${JSON.stringify(this.keys[s])} is not in the backend as the key index says`);
      }
      total += v.length;
    }
    const slab = new Uint8Array(total);
    const id = this.slabs.length;
    this.slabs.push(slab);
    let at = 0;
    for (let j = 0; j < slots.length; j++) {
      const v = values[j]!;
      const s = slots[j]!;
      slab.set(v, at);
      this.slab[s] = id;
      this.off[s] = at;
      this.len[s] = v.length;
      this.sizes[s] = v.length;
      at += v.length;
    }
  }

  keyBytes(i: number): number {
    return this.kind[this.order === null ? i : this.order[i]!] === TOMBSTONE ? revBytesLen + 1 : revBytesLen;
  }

  valueBytes(i: number): number {
    return this.sizes[this.order === null ? i : this.order[i]!]!;
  }

  /** The revision key at dst[at..]. */
  writeKey(i: number, dst: Buffer, at: number): void {
    const s = this.order === null ? i : this.order[i]!;
    writeRevKey(dst, at, this.main[s]!, this.sub[s]!, this.kind[s] === TOMBSTONE);
  }

  /** The revision key, then the KeyValue, at dst[at..]. */
  write(i: number, dst: Buffer, at: number): void {
    const s = this.order === null ? i : this.order[i]!;
    const main = this.main[s]!;
    const kind = this.kind[s];
    writeRevKey(dst, at, main, this.sub[s]!, kind === TOMBSTONE);
    if (kind === STORED) {
      copyInto(dst, at + revBytesLen, this.slabs[this.slab[s]!]!, this.off[s]!, this.len[s]!);
      return;
    }
    // a tombstone's KeyValue is {key} alone, after the mark
    let p = kind === TOMBSTONE ? at + revBytesLen + 1 : at + revBytesLen;
    const key = this.keys[s]!;
    const klen = key.length;
    dst[p++] = KEY_TAG;
    p = writeVarint(dst, p, klen);
    if (klen <= KEY_LOOP_MAX) {
      for (let j = 0; j < klen; j++) dst[p + j] = key.charCodeAt(j);
    } else {
      dst.write(key, p, klen, 'latin1');
    }
    if (kind === TOMBSTONE) return;
    p += klen;
    dst[p++] = CREATE_TAG;
    p = writeVarint(dst, p, this.created[s]!);
    dst[p++] = MOD_TAG;
    p = writeVarint(dst, p, main);
    dst[p++] = VERSION_TAG;
    p = writeVarint(dst, p, this.ver[s]!);
    const vlen = this.len[s]!;
    if (vlen > 0) {
      dst[p++] = VALUE_TAG;
      p = writeVarint(dst, p, vlen);
      copyInto(dst, p, this.slabs[this.slab[s]!]!, this.off[s]!, vlen);
      p += vlen;
    }
    const lease = this.leases.size === 0 ? undefined : this.leases.get(s);
    if (lease !== undefined) {
      dst[p++] = LEASE_TAG;
      writeBigVarint(dst, p, lease);
    }
  }
}

/** src[off, off + n) at dst[at..]. */
function copyInto(dst: Buffer, at: number, src: Uint8Array, off: number, n: number): void {
  if (n <= VALUE_LOOP_MAX) {
    for (let j = 0; j < n; j++) dst[at + j] = src[off + j]!;
  } else {
    dst.set(src.subarray(off, off + n), at);
  }
}

/** Whether the stored KeyValue `v` starts with field 1 = `key` (latin1). */
function holdsKey(v: Buffer, key: string): boolean {
  const n = key.length;
  if (v[0] !== KEY_TAG) return false;
  let p = 1;
  let len = 0;
  for (let shift = 0; p < v.length; shift += 7) {
    const b = v[p++]!;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (len !== n || p + n > v.length) return false;
  for (let j = 0; j < n; j++) if (v[p + j] !== key.charCodeAt(j)) return false;
  return true;
}


/** Arrays revisionOrder may use instead of allocating its own (the order it returns is one of them). */
export interface SortScratch {
  order: Uint32Array;
  tmp: Uint32Array;
  digit: Uint16Array;
}

/**
 * The slots sorted by (main, sub): an LSD radix sort on 16-bit digits (a pass whose digit is the same
 * everywhere is skipped), or a comparison sort when a revision does not fit in 32 bits. Each loop is a
 * function of its own: V8 optimizes small functions soon, one big function ran its first call (the
 * one a snapshot makes) 3x slower.
 */
export function revisionOrder(main: Float64Array, sub: Float64Array, scratch?: SortScratch): Uint32Array {
  const n = main.length;
  const room = scratch !== undefined && scratch.order.length >= n;
  let order = room ? scratch.order.subarray(0, n) : new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (anyAbove(main, 0xffffffff) || anyAbove(sub, 0xffffffff)) return order.sort((a, b) => main[a]! - main[b]! || sub[a]! - sub[b]!);
  let tmp = room ? scratch.tmp.subarray(0, n) : new Uint32Array(n);
  const digit = room ? scratch.digit.subarray(0, n) : new Uint16Array(n);
  const count = new Uint32Array(0x10001);
  for (const [keys, shift] of [[sub, 0], [sub, 16], [main, 0], [main, 16]] as const) {
    digitsOf(keys, shift, digit);
    countDigits(digit, count);
    if (count[digit[0]! + 1] === n) continue; // one digit: the order stands
    for (let d = 1; d <= 0x10000; d++) count[d]! += count[d - 1]!;
    scatter(digit, order, tmp, count);
    [order, tmp] = [tmp, order];
  }
  return order;
}

function anyAbove(xs: Float64Array, max: number): boolean {
  for (let i = 0; i < xs.length; i++) if (xs[i]! > max) return true;
  return false;
}

function digitsOf(keys: Float64Array, shift: number, out: Uint16Array): void {
  for (let i = 0; i < keys.length; i++) out[i] = (keys[i]! >>> shift) & 0xffff;
}

function countDigits(digit: Uint16Array, count: Uint32Array): void {
  count.fill(0);
  for (let i = 0; i < digit.length; i++) count[digit[i]! + 1]!++;
}

function scatter(digit: Uint16Array, order: Uint32Array, out: Uint32Array, start: Uint32Array): void {
  for (let i = 0; i < order.length; i++) {
    const slot = order[i]!;
    out[start[digit[slot]!]!++] = slot;
  }
}
