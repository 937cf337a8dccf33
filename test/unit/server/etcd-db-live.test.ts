// The streamed snapshot whose key bucket comes from the key index (mvcc/live-revisions.ts,
// server/etcd-db.ts etcdDbStreamLive) is byte for byte the file read from the backend (etcdDbImage),
// and the key index offers it only when it holds the key bucket entry for entry: no key with
// history or a tombstone, no physical compaction still deleting revisions.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
  const streamed = await etcdDbStreamLive(backend, live!);
  const read = await etcdDbImage(backend);
  const bytes = Buffer.concat([...streamed.chunks]);
  expect(bytes.length).toBe(streamed.size);
  expect(streamed.size).toBe(read.size);
  expect(sha([bytes])).toBe(sha(read.chunks));
  expect(checkDb(BoltDb.open(bytes))).toEqual([]);
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

  it('is not offered while a key has history, a tombstone or a compaction is deleting revisions; is again after', async () => {
    const { backend, kv } = await open();
    let index = 1;
    try {
      for (let i = 0; i < 50; i++) kv.put(index++, { key: B(`a${i}`), value: B(`v${i}`) });
      expect(kv.liveRevisions()).toBeDefined();
      kv.put(index++, { key: B('a1'), value: B('again') });
      expect(kv.liveRevisions()).toBeUndefined(); // two revisions of a1
      const first = kv.compact(index++, kv.rev());
      expect(kv.liveRevisions()).toBeUndefined(); // the old revision is still in the backend
      await first.done;
      await same(backend, kv);
      kv.deleteRange(index++, { key: B('a2') });
      expect(kv.liveRevisions()).toBeUndefined(); // a tombstone
      kv.put(index++, { key: B('b'), value: B('after') });
      await kv.compact(index++, kv.rev()).done;
      await same(backend, kv);
      expect(kv.liveRevisions()!.count).toBe(50); // a2 gone, b added
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
});
