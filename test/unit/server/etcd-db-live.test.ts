// The streamed snapshot whose key bucket comes from the key index (mvcc/live-revisions.ts,
// server/etcd-db.ts etcdDbStreamLive: live values from the index, tombstones rebuilt, history read
// from the backend as of the capture) is byte for byte the file read from the backend (etcdDbImage),
// and the key index offers it unless a physical compaction is still deleting revisions.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Backend, Bucket } from '../../../src/backend/index.js';
import { BoltDb, checkDb } from '../../../src/bbolt/index.js';
import { KvStore } from '../../../src/mvcc/index.js';
import { etcdDbImage, etcdDbStreamLive } from '../../../src/server/etcd-db.js';
import { removeDir, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

const B = (s: string): Buffer => Buffer.from(s, 'latin1');
const sha = (chunks: Iterable<Uint8Array>): string => {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};

async function open(): Promise<{ backend: Backend; kv: KvStore }> {
  const dir = await tempDir();
  dirs.push(dir);
  const backend = await Backend.open(path.join(dir, 'db'));
  return { backend, kv: await KvStore.open(backend) };
}

/** Both files of the backend now; expects them equal and valid. */
async function same(backend: Backend, kv: KvStore): Promise<void> {
  const live = kv.liveRevisions();
  expect(live).toBeDefined();
  // the writer's blocks are not cleared: dirty memory for the streamed file, zeroed for the other
  const dirty = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((n: number) => Buffer.alloc(n, 0xaa));
  let streamed: Awaited<ReturnType<typeof etcdDbStreamLive>>;
  let bytes: Buffer;
  try {
    streamed = await etcdDbStreamLive(backend, live!);
    bytes = Buffer.concat([...streamed.chunks]);
  } finally {
    dirty.mockRestore();
  }
  const zeroed = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((n: number) => Buffer.alloc(n));
  let read: Awaited<ReturnType<typeof etcdDbImage>>;
  try {
    read = await etcdDbImage(backend);
  } finally {
    zeroed.mockRestore();
  }
  expect(bytes.length).toBe(streamed.size);
  expect(streamed.size).toBe(read.size);
  expect(sha([bytes])).toBe(sha(read.chunks));
  expect(checkDb(BoltDb.open(bytes))).toEqual([]);
}

/**
 * n keys, every second one overwritten, every fiftieth deleted, committed; then every fourth put
 * again, left in the pending batch. Returns the next raft index.
 */
async function withHistory(backend: Backend, kv: KvStore, index: number, n: number): Promise<number> {
  for (let i = 0; i < n; i++) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(100, i & 0xff) });
  for (let i = 0; i < n; i += 2) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(90, 1) });
  for (let i = 0; i < n; i += 50) kv.deleteRange(index++, { key: B(`k${i + 1}`) });
  await backend.commit();
  for (let i = 0; i < n; i += 4) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(80, 2) });
  return index;
}

describe('snapshot with the key bucket from the key index', () => {
  it('writes the same bytes as reading the backend: keys put out of order, txns, leases, empty, long and large values', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      await same(backend, kv); // empty
      for (let i = 0; i < 3000; i++) {
        const k = `k-${String((i * 7919) % 3000).padStart(5, '0')}`;
        kv.put(index++, { key: B(k), value: Buffer.alloc(i % 7 === 0 ? 0 : 20 + (i % 300), i & 0xff), lease: i % 11 === 0 ? BigInt(i) + 0x7fff_ffff_0000n : 0n });
      }
      kv.put(index++, { key: B('x'.repeat(300)), value: Buffer.alloc(10_000, 1) }); // overflow pages; a key beyond the byte loop
      kv.put(index++, { key: B('\u00ff\u0000z'), value: B('latin1 bytes'), lease: -5n });
      kv.txn(index++, { compare: [], success: [{ put: { key: B('t-b'), value: B('1') } }, { put: { key: B('t-a'), value: B('2') } }, { put: { key: B('t-c'), value: B('3') } }], failure: [] });
      backend.put(Bucket.lease, Buffer.from('0000000000000007', 'hex'), B('lease value'));
      await same(backend, kv); // pending writes
      await backend.commit();
      await same(backend, kv); // written
    } finally {
      await backend.close();
    }
  });

  it('is not offered while a compaction is deleting revisions; is with history and tombstones', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      for (let i = 0; i < 50; i++) kv.put(index++, { key: B(`a${i}`), value: B(`v${i}`) });
      expect(kv.liveRevisions()).toBeDefined();
      kv.put(index++, { key: B('a1'), value: B('again') });
      await same(backend, kv); // two revisions of a1, the first from the backend's pending batch
      kv.compact(index++, kv.rev());
      expect(kv.liveRevisions()).toBeUndefined(); // the old revision is still in the backend
      await kv.compactionSettled();
      await same(backend, kv);
      kv.deleteRange(index++, { key: B('a2') });
      await same(backend, kv); // a tombstone
      kv.put(index++, { key: B('b'), value: B('after') });
      await kv.compact(index++, kv.rev()).done;
      await same(backend, kv);
      expect(kv.liveRevisions()!.count).toBe(50); // a2 gone, b added
    } finally {
      await backend.close();
    }
  });

  it('writes the same bytes with history: overwrites, deletes, re-creations, txns, leases; before and after a compaction', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      for (let i = 0; i < 2000; i++) kv.put(index++, { key: B(`h-${String((i * 7919) % 2000).padStart(5, '0')}`), value: Buffer.alloc(30 + (i % 200), i & 0xff), lease: i % 13 === 0 ? BigInt(i + 1) : 0n });
      await backend.commit();
      for (let round = 0; round < 3; round++) {
        for (let i = round; i < 2000; i += 3 + round) kv.put(index++, { key: B(`h-${String(i).padStart(5, '0')}`), value: Buffer.alloc(i % 5 === 0 ? 0 : 50, round), lease: i % 7 === 0 ? 99n : 0n });
        for (let i = round * 11; i < 2000; i += 97) kv.deleteRange(index++, { key: B(`h-${String(i).padStart(5, '0')}`) });
        kv.txn(index++, { compare: [], success: [{ put: { key: B('h-00003'), value: B('t1') } }, { put: { key: B('h-00001'), value: B('t2') } }, { deleteRange: { key: B('h-00002') } }, { put: { key: B('h-00002'), value: B('back') } }], failure: [] });
        if (round === 1) await backend.commit();
      }
      kv.put(index++, { key: B('x'.repeat(300)), value: Buffer.alloc(10_000, 1) });
      kv.put(index++, { key: B('x'.repeat(300)), value: Buffer.alloc(9_000, 2) }); // history with overflow pages
      kv.deleteRange(index++, { key: B('h-01000'), rangeEnd: B('h-01100') });
      for (let i = 1000; i < 1100; i += 2) kv.put(index++, { key: B(`h-${String(i).padStart(5, '0')}`), value: B('re-created') });
      await same(backend, kv); // partly in the pending batch
      await backend.commit();
      await same(backend, kv);
      const mid = Math.floor(kv.rev() * 0.6);
      await kv.compact(index++, mid).done;
      await same(backend, kv); // what the compaction keeps: the newer history, tombstones after mid
      await backend.commit();
      await same(backend, kv);
    } finally {
      await backend.close();
    }
  });

  it('shows the moment of the capture while the store goes on: puts, commits and a compaction during the reads of history', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      index = await withHistory(backend, kv, index, 5000);
      // the capture, the other buckets and the backend-read file, all in one step
      const live = kv.liveRevisions()!;
      const streamedP = etcdDbStreamLive(backend, live);
      const readP = etcdDbImage(backend);
      // then, while history is read: overwrites, a commit, a compaction deleting what was read
      for (let i = 0; i < 5000; i++) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(70, 3) });
      const compacted = kv.compact(index++, kv.rev());
      await backend.commit();
      await compacted.done;
      await backend.commit();
      const [streamed, read] = await Promise.all([streamedP, readP]);
      const bytes = Buffer.concat([...streamed.chunks]);
      expect(bytes.length).toBe(read.size);
      expect(sha([bytes])).toBe(sha(read.chunks));
      expect(checkDb(BoltDb.open(bytes))).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('reads history as the backend was at the capture, however it changed before the reads', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      index = await withHistory(backend, kv, index, 3000);
      const live = kv.liveRevisions()!;
      const dump = backend.dump(); // the key bucket as it is now
      // before the history is read: overwrites, and a compaction whose deletes reach LevelDB
      for (let i = 0; i < 3000; i++) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(70, 3) });
      await kv.compact(index++, kv.rev()).done;
      await backend.commit();
      await live.load();
      const want: Buffer[] = [];
      for await (const chunk of dump) for (const [k, v] of chunk) if (k.toString('latin1').startsWith('key/')) want.push(Buffer.concat([k.subarray(4), v]));
      const got: Buffer[] = [];
      for (let i = 0; i < live.count; i++) {
        const b = Buffer.alloc(live.keyBytes(i) + live.valueBytes(i));
        live.write(i, b, 0);
        got.push(b);
      }
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    } finally {
      await backend.close();
    }
  });

  it('keeps the values it captured while the store goes on', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      for (let i = 0; i < 2000; i++) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(200, i & 0xff) });
      const live = kv.liveRevisions()!;
      const streamed = await etcdDbStreamLive(backend, live);
      const want = sha((await etcdDbImage(backend)).chunks);
      // every value replaced (the arena drops and compacts its slabs), keys deleted, a compaction
      for (let i = 0; i < 2000; i++) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(300, 0xee) });
      kv.deleteRange(index++, { key: B('k'), rangeEnd: B('l') });
      await kv.compact(index++, kv.rev()).done;
      expect(sha(streamed.chunks)).toBe(want);
    } finally {
      await backend.close();
    }
  });

  it('gives its arrays to the next capture once streamed, never to one taken while it is still in use', async () => {
    const { backend, kv } = await open();
    // the capture's typed arrays (private): what a reuse shares
    const arraysOf = (c: unknown): unknown => (c as { arrays: unknown }).arrays;
    let index = 1;
    try {
      for (let i = 0; i < 500; i++) kv.put(index++, { key: B(`k${i}`), value: Buffer.alloc(50, i & 0xff) });
      const first = kv.liveRevisions()!;
      const firstFile = await etcdDbStreamLive(backend, first);
      const overlapping = kv.liveRevisions()!; // the first is not streamed yet: arrays of its own
      expect(arraysOf(overlapping)).not.toBe(arraysOf(first));
      const want = sha((await etcdDbImage(backend)).chunks);
      expect(sha((await etcdDbStreamLive(backend, overlapping)).chunks)).toBe(want);
      expect(sha(firstFile.chunks)).toBe(want);
      const next = kv.liveRevisions()!; // both released: one of their arrays comes back
      expect([arraysOf(first), arraysOf(overlapping)]).toContain(arraysOf(next));
      const nextFile = await etcdDbStreamLive(backend, next);
      kv.deleteRange(index++, { key: B('k1'), rangeEnd: B('k2') }); // fewer keys, tombstones in other slots
      const after = kv.liveRevisions()!;
      expect(arraysOf(after)).not.toBe(arraysOf(next));
      expect(sha(nextFile.chunks)).toBe(want);
      expect(sha((await etcdDbStreamLive(backend, after)).chunks)).toBe(sha((await etcdDbImage(backend)).chunks));
    } finally {
      await backend.close();
    }
  });
});
