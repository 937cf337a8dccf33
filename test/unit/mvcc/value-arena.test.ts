// The value arena: values copied into slabs, views that never change, holes dropped or compacted away.
import { describe, expect, it } from 'vitest';
import { COMPACT_MIN_HOLE_BYTES, NO_VALUE, SLAB_BYTES, ValueArena, type ValueHolder } from '../../../src/mvcc/value-arena.js';

const holder = (): ValueHolder => ({ vSlab: NO_VALUE, vOff: 0, vLen: 0 });
const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('ValueArena', () => {
  it('keeps a copy: changing the source or replacing the value leaves an earlier view as it was', () => {
    const a = new ValueArena();
    const h = holder();
    const src = Buffer.from('first');
    a.set(h, src);
    src.fill(0);
    const first = a.view(h);
    a.set(h, Buffer.from('second value'));
    expect([first.toString(), a.view(h).toString()]).toEqual(['first', 'second value']);
    a.clear(h);
    expect(h.vSlab).toBe(NO_VALUE);
    expect(() => a.view(h)).toThrow(/no value/);
    expect(first.toString()).toBe('first');
  });

  it('holds the empty value without a slab, and a large value in a slab of its own', () => {
    const a = new ValueArena();
    const e = holder();
    a.set(e, Buffer.alloc(0));
    expect([e.vSlab === NO_VALUE, a.view(e).length, a.usage().slabBytes]).toEqual([false, 0, 0]);
    const big = holder();
    a.set(big, bytes(SLAB_BYTES, 7));
    expect(a.usage().slabBytes).toBe(SLAB_BYTES);
    expect(a.view(big).equals(bytes(SLAB_BYTES, 7))).toBe(true);
    a.clear(big);
    expect(a.usage().slabBytes).toBe(0); // dropped as soon as nothing in it is live
  });

  it('drops a filled slab once its last value goes, and reuses its number', () => {
    const a = new ValueArena();
    const hs = Array.from({ length: 5 }, () => holder());
    for (const [i, h] of hs.entries()) a.set(h, bytes(SLAB_BYTES / 4, i)); // four fill slab 0, the fifth opens slab 1
    expect([hs[0]!.vSlab, hs[4]!.vSlab, a.usage().slabBytes]).toEqual([0, 1, 2 * SLAB_BYTES]);
    for (const h of hs.slice(0, 3)) a.clear(h);
    expect(a.usage().slabBytes).toBe(2 * SLAB_BYTES); // one value of slab 0 still live
    a.clear(hs[3]!);
    expect(a.usage().slabBytes).toBe(SLAB_BYTES);
    for (let i = 0; i < 4; i++) a.set(holder(), bytes(SLAB_BYTES / 4, 9)); // fills slab 1, then a new slab takes number 0
    expect(a.usage().slabBytes).toBe(2 * SLAB_BYTES);
    expect(a.view(hs[4]!).equals(bytes(SLAB_BYTES / 4, 4))).toBe(true);
  });

  it('compacts once holes outweigh live bytes: values move, bytes and old views stay right, slabs are freed', () => {
    const a = new ValueArena();
    const n = (3 * COMPACT_MIN_HOLE_BYTES) / 1000;
    const hs = Array.from({ length: n }, () => holder());
    hs.forEach((h, i) => a.set(h, bytes(1000, i % 251)));
    const before = a.usage().slabBytes;
    // delete 9 of every 10: holes everywhere, no slab empties
    hs.forEach((h, i) => i % 10 !== 0 && a.clear(h));
    expect(a.usage().slabBytes).toBe(before);
    expect(a.compactionDue()).toBe(true);
    const kept = hs.filter((_, i) => i % 10 === 0);
    const oldView = a.view(kept[0]!);
    const oldSlab = kept[0]!.vSlab;
    a.compact(hs);
    expect(a.compactionDue()).toBe(false);
    expect(a.usage().slabBytes).toBeLessThan(before / 5);
    expect(kept[0]!.vSlab).not.toBe(oldSlab);
    kept.forEach((h) => expect(a.view(h).equals(bytes(1000, hs.indexOf(h) % 251))).toBe(true));
    expect(oldView.equals(bytes(1000, 0))).toBe(true);
  });

  it('is not due for compaction while holes are few or under the floor', () => {
    const a = new ValueArena();
    const hs = Array.from({ length: 1000 }, () => holder());
    hs.forEach((h) => a.set(h, bytes(1000, 1)));
    hs.forEach((h, i) => i % 2 === 0 && a.clear(h));
    expect(a.compactionDue()).toBe(false); // 0.5 MB of holes, under COMPACT_MIN_HOLE_BYTES
  });

  it('takes its slabs from adopted memory first (a slab at a time), then allocates; releaseSpare stops that', () => {
    const donor = Buffer.alloc(2 * SLAB_BYTES + 100, 0xee);
    const small = Buffer.alloc(SLAB_BYTES - 1, 0xdd); // too small for a slab: not taken
    const a = new ValueArena();
    a.adopt([small, donor]);
    const hs = Array.from({ length: 5 }, holder);
    hs.forEach((h, i) => a.set(h, bytes(SLAB_BYTES / 2, i + 1))); // two a slab: slabs 1-2 from the donor, 3 allocated
    expect(hs.map((h) => a.view(h)[0])).toEqual([1, 2, 3, 4, 5]);
    expect(hs.map((h) => a.view(h).buffer === donor.buffer)).toEqual([true, true, true, true, false]);
    expect(donor.subarray(0, SLAB_BYTES / 2).every((b) => b === 1)).toBe(true); // written in place
    expect(donor.subarray(2 * SLAB_BYTES).every((b) => b === 0xee)).toBe(true); // the rest untouched
    expect(small.every((b) => b === 0xdd)).toBe(true);
    const b = new ValueArena();
    b.adopt([Buffer.alloc(2 * SLAB_BYTES)]);
    b.releaseSpare([]);
    const h = holder();
    b.set(h, bytes(10, 9));
    expect(b.view(h).buffer.byteLength).toBe(SLAB_BYTES);
    expect(b.view(h).toString('hex')).toBe('09'.repeat(10));
  });

  it('releaseSpare moves the values out of a buffer of which less than half was taken, so that it can go', () => {
    const big = Buffer.alloc(8 * SLAB_BYTES); // one slab of it taken: moved out
    const full = Buffer.alloc(2 * SLAB_BYTES); // both slabs taken: kept
    const a = new ValueArena();
    a.adopt([big, full]);
    const hs = Array.from({ length: 6 }, holder);
    hs.forEach((h, i) => a.set(h, bytes(SLAB_BYTES / 2, i + 1))); // slabs 0-1 from full, 2 from big
    expect(hs.map((h) => a.view(h).buffer === full.buffer)).toEqual([true, true, true, true, false, false]);
    expect(hs.map((h) => a.view(h).buffer === big.buffer)).toEqual([false, false, false, false, true, true]);
    const before = hs.map((h) => a.view(h));
    a.releaseSpare(hs);
    expect(hs.map((h) => a.view(h).buffer === full.buffer)).toEqual([true, true, true, true, false, false]);
    expect(hs.some((h) => a.view(h).buffer === big.buffer)).toBe(false);
    expect(hs.map((h) => a.view(h)[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(before[4]![0]).toBe(5); // an earlier view stays as it was
    const h = holder();
    a.set(h, bytes(10, 7)); // and later values go to fresh slabs too
    expect(a.view(h).buffer === big.buffer || a.view(h).buffer === full.buffer).toBe(false);
    expect(a.usage().liveBytes).toBe(6 * (SLAB_BYTES / 2) + 10);
  });
});
