// Backend: reads see pending writes, iterate merges pending over LevelDB, batches flush by size and on
// commit, the consistent index persists with the data, snapshots round-trip and are verified.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backend, Bucket, type BucketName, restoreSnapshot, snapshotStream, SnapshotFormatError } from '../../../src/backend/index.js';

const B = (s: string) => Buffer.from(s);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backend-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function all(b: Backend, bucket: BucketName = Bucket.lease, gte?: Buffer, lt?: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of b.iterate(bucket, gte, lt)) out.push(`${k}=${v}`);
  return out;
}

describe('backend', () => {
  it('reads see pending, in-flight and committed writes; deletes hide committed values', async () => {
    const b = await Backend.open(join(dir, 'db'), { batchIntervalMs: 10_000 });
    b.put(Bucket.lease, B('a'), B('1'));
    b.put(Bucket.lease, B('c'), B('3'));
    b.put(Bucket.auth, B('b'), B('other bucket'));
    await b.commit();
    b.put(Bucket.lease, B('b'), B('2'));
    b.del(Bucket.lease, B('c'));
    expect(b.get(Bucket.lease, B('a'))?.toString()).toBe('1');
    expect(b.get(Bucket.lease, B('c'))).toBeUndefined();
    expect(await all(b)).toEqual(['a=1', 'b=2']);
    expect(await all(b, Bucket.lease, B('b'))).toEqual(['b=2']);
    const flushing = b.commit();
    b.put(Bucket.lease, B('d'), B('4'));
    expect(await all(b)).toEqual(['a=1', 'b=2', 'd=4']);
    await flushing;
    expect(b.get(Bucket.lease, B('b'))?.toString()).toBe('2');
    await b.close();
  });

  it('sizes follow the batches: at once when idle, within a second when batches keep coming', async () => {
    const b = await Backend.open(join(dir, 'db'), { batchIntervalMs: 10_000 });
    const grown = async (than: number): Promise<number> => {
      for (let i = 0; i < 300 && b.size() <= than; i++) await new Promise((r) => setTimeout(r, 10)); // hang guard 3 s
      return b.size();
    };
    const s0 = b.size();
    b.put(Bucket.lease, B('a'), Buffer.alloc(64 * 1024, 1));
    await b.commit();
    const s1 = await grown(s0);
    expect(s1).toBeGreaterThan(s0);
    b.put(Bucket.lease, B('b'), Buffer.alloc(64 * 1024, 2)); // a second batch right after: refreshed later
    await b.commit();
    expect(await grown(s1)).toBeGreaterThan(s1);
    await b.close();
  });

  it('flushes on its own when the batch limit is reached, and keeps the consistent index with the data', async () => {
    const path = join(dir, 'db');
    const b = await Backend.open(path, { batchIntervalMs: 60_000, batchLimit: 10 });
    for (let i = 0; i < 10; i++) b.put(Bucket.members, B(`m${i}`), B('x'));
    b.setConsistentIndex(42);
    expect(b.pendingOps()).toBe(10);
    expect(b.get(Bucket.meta, Buffer.from('consistent_index'))?.readUInt32BE(4)).toBe(42);
    for (let i = 0; i < 50 && b.pendingOps() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(b.pendingOps()).toBe(0);
    expect(() => b.setConsistentIndex(41)).toThrow(/going back/);
    await b.close();
    const again = await Backend.open(path);
    expect(again.consistentIndex()).toBe(42);
    expect((await all(again, Bucket.members)).length).toBe(10);
    expect(again.size()).toBeGreaterThan(0);
    await again.close();
  });

  it('snapshots round-trip; a damaged snapshot is refused', async () => {
    const b = await Backend.open(join(dir, 'db'));
    for (let i = 0; i < 3000; i++) b.put(Bucket.key, B(`k${String(i).padStart(5, '0')}`), Buffer.alloc(50, i % 256));
    b.setConsistentIndex(7);
    const chunks: Buffer[] = [];
    for await (const c of snapshotStream(b)) chunks.push(c);
    await b.close();
    expect(chunks.length).toBeGreaterThan(1);
    await restoreSnapshot(join(dir, 'restored'), chunks);
    const r = await Backend.open(join(dir, 'restored'));
    expect([r.consistentIndex(), (await all(r, Bucket.key)).length]).toEqual([7, 3000]);
    await r.close();
    const bad = Buffer.concat(chunks);
    bad[100] ^= 0xff;
    await expect(restoreSnapshot(join(dir, 'bad'), [bad])).rejects.toBeInstanceOf(SnapshotFormatError);
    await expect(restoreSnapshot(join(dir, 'short'), [bad.subarray(0, 500)])).rejects.toBeInstanceOf(SnapshotFormatError);
  });
});
