// The backend's key bucket as the key index knows it, captured at one moment, for a snapshot that
// need not read the bucket back from the disk. Possible only while every key has exactly one revision
// (its live value: the compact form of key-index.ts) and no physical compaction is still deleting
// revisions: the bucket then holds one entry per key, revision key (main, sub) → the mvccpb.KeyValue
// {key, create_revision, mod_revision = main, version, value, lease} that write-txn.ts stored (the
// same bytes: kv-codec.ts's encoding, rebuilt here straight into the caller's buffer).
//
// The capture copies the numbers of every key into typed arrays and keeps the value slabs it points
// into: a slab's bytes are never written twice (value-arena.ts), so the values stay as they were
// whatever the store does afterwards.
import type { TreeIndex } from './key-index.js';
import { bigVarintSize, varintSize, writeBigVarint, writeVarint } from '../pkg/varint.js';
import { revBytesLen } from './revision.js';

const KEY_TAG = 0x0a;
const CREATE_TAG = 0x10;
const MOD_TAG = 0x18;
const VERSION_TAG = 0x20;
const VALUE_TAG = 0x2a;
const LEASE_TAG = 0x30;

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

/**
 * The key bucket's entries in revision (= key) order: entry i has a 17-byte revision key and its
 * KeyValue as value; write(i, dst, at) puts both (bbolt/writer.ts's EntrySource).
 */
export class LiveRevisions {
  /** Entry i is capture slot order[i] (null: the slots are in revision order). */
  private order: Uint32Array | null = null;
  private readonly keys: string[];
  private readonly main: Float64Array;
  private readonly sub: Float64Array;
  private readonly created: Float64Array;
  private readonly ver: Float64Array;
  private readonly slab: Int32Array;
  private readonly off: Uint32Array;
  private readonly len: Uint32Array;
  private readonly sizes: Uint32Array;
  /** Leases by capture slot, for the keys that have one. */
  private readonly leases = new Map<number, bigint>();
  /** The value slabs as plain Uint8Arrays (their subarray() is cheaper than a Buffer's). */
  private slabs: readonly (Uint8Array | null)[] = [];

  private constructor(readonly count: number) {
    this.keys = new Array<string>(count);
    this.main = new Float64Array(count);
    this.sub = new Float64Array(count);
    this.created = new Float64Array(count);
    this.ver = new Float64Array(count);
    this.slab = new Int32Array(count);
    this.off = new Uint32Array(count);
    this.len = new Uint32Array(count);
    this.sizes = new Uint32Array(count);
  }

  /**
   * The key bucket of `index` now, or undefined when the index does not describe it entry for entry
   * (some key has history or a tombstone, or `compacting`: revisions are still being deleted).
   */
  static capture(index: TreeIndex, compacting: boolean): LiveRevisions | undefined {
    if (compacting) return undefined;
    const c = new LiveRevisions(index.size);
    const f = new Float64Array(4);
    let i = 0;
    let sorted = true;
    let prevMain = -1;
    let prevSub = -1;
    for (const ki of index.all()) {
      if (ki.fullForm() !== null || !ki.hasValue() || i >= c.count) return undefined;
      ki.compactFieldsInto(f);
      const main = f[0]!;
      const sub = f[1]!;
      const created = f[2]!;
      const ver = f[3]!;
      if (ver === 0 || main === 0 || created === 0) return undefined; // kv-codec.ts would leave a zero out
      if (main < prevMain || (main === prevMain && sub <= prevSub)) sorted = false;
      prevMain = main;
      prevSub = sub;
      const klen = ki.key.length;
      const vlen = ki.vLen;
      c.keys[i] = ki.key;
      c.main[i] = main;
      c.sub[i] = sub;
      c.created[i] = created;
      c.ver[i] = ver;
      c.slab[i] = ki.vSlab;
      c.off[i] = ki.vOff;
      c.len[i] = vlen;
      let size = 1 + varintBytes(klen) + klen + 1 + varintBytes(created) + 1 + varintBytes(main) + 1 + varintBytes(ver);
      if (vlen > 0) size += 1 + varintBytes(vlen) + vlen;
      if (ki.lease) { // 0n is falsy: cheaper than comparing BigInts
        const lease = BigInt.asUintN(64, ki.lease);
        c.leases.set(i, lease);
        size += 1 + bigVarintSize(lease);
      }
      c.sizes[i] = size;
      i++;
    }
    if (i !== c.count) return undefined;
    c.slabs = index.values.slabRefs().map((b) => (b === null ? null : new Uint8Array(b.buffer, b.byteOffset, b.length)));
    if (!sorted) c.order = revisionOrder(c.main, c.sub);
    return c;
  }

  keyBytes(): number {
    return revBytesLen;
  }

  valueBytes(i: number): number {
    return this.sizes[this.order === null ? i : this.order[i]!]!;
  }

  /** The revision key at dst[at..]. */
  writeKey(i: number, dst: Buffer, at: number): void {
    const s = this.order === null ? i : this.order[i]!;
    put64(dst, at, this.main[s]!);
    dst[at + 8] = 0x5f;
    put64(dst, at + 9, this.sub[s]!);
  }

  /** The revision key, then the KeyValue, at dst[at..]. */
  write(i: number, dst: Buffer, at: number): void {
    const s = this.order === null ? i : this.order[i]!;
    const main = this.main[s]!;
    put64(dst, at, main);
    dst[at + 8] = 0x5f;
    put64(dst, at + 9, this.sub[s]!);
    let p = at + revBytesLen;
    const key = this.keys[s]!;
    const klen = key.length;
    dst[p++] = KEY_TAG;
    p = writeVarint(dst, p, klen);
    if (klen <= KEY_LOOP_MAX) {
      for (let j = 0; j < klen; j++) dst[p + j] = key.charCodeAt(j);
    } else {
      dst.write(key, p, klen, 'latin1');
    }
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
      const slab = this.slabs[this.slab[s]!]!;
      const off = this.off[s]!;
      if (vlen <= VALUE_LOOP_MAX) {
        for (let j = 0; j < vlen; j++) dst[p + j] = slab[off + j]!;
      } else {
        dst.set(slab.subarray(off, off + vlen), p);
      }
      p += vlen;
    }
    const lease = this.leases.get(s);
    if (lease !== undefined) {
      dst[p++] = LEASE_TAG;
      writeBigVarint(dst, p, lease);
    }
  }
}

/** n (below 2^53) as 8 bytes big-endian at b[at..]. */
function put64(b: Buffer, at: number, n: number): void {
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

/**
 * The slots sorted by (main, sub): an LSD radix sort on 16-bit digits (a pass whose digit is the same
 * everywhere is skipped), or a comparison sort when a revision does not fit in 32 bits. Each loop is a
 * function of its own: V8 optimizes small functions soon, one big function ran its first call (the
 * one a snapshot makes) 3x slower.
 */
export function revisionOrder(main: Float64Array, sub: Float64Array): Uint32Array {
  const n = main.length;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (anyAbove(main, 0xffffffff) || anyAbove(sub, 0xffffffff)) return order.sort((a, b) => main[a]! - main[b]! || sub[a]! - sub[b]!);
  let tmp = new Uint32Array(n);
  const digit = new Uint16Array(n);
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
