// Physical compaction: runs in batches that let writes through, deletes exactly the revisions the
// logical compaction dropped, records finishedCompactRev, and resumes after a reopen if interrupted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backend, Bucket, MetaKey } from '../../../src/backend/index.js';
import { KvStore, bytesToRev } from '../../../src/mvcc/index.js';
import { B, tempDir } from './helpers.js';
import { disableAllFailpoints, enableFailpoint, FailpointError } from '../../../src/pkg/failpoints.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function revisions(b: Backend): Promise<string[]> {
  const out: string[] = [];
  for await (const [k] of b.iterate(Bucket.key)) {
    const r = bytesToRev(k);
    out.push(`${r.main}${r.tombstone ? 't' : ''}`);
  }
  return out;
}

describe('physical compaction', () => {
  it('runs in batches between which writes proceed, and deletes only what compaction dropped', async () => {
    const backend = await Backend.open(dir);
    const kv = await KvStore.open(backend, { compactionBatchLimit: 50 });
    let idx = 0;
    for (let i = 0; i < 1000; i++) kv.put(++idx, { key: B(`k${i % 10}`), value: B(`${i}`) }); // revs 2..1001
    kv.deleteRange(++idx, { key: B('k0') }); // rev 1002
    const { done } = kv.compact(++idx, 1002);
    let finished = false;
    void done.then(() => (finished = true));
    let writesDuring = 0;
    while (!finished) {
      kv.put(++idx, { key: B('w'), value: B('x') });
      writesDuring++;
      await new Promise((r) => setImmediate(r));
    }
    expect(writesDuring).toBeGreaterThan(10); // 1001 revisions / 50 per batch
    expect(bytesToRev(backend.get(Bucket.meta, MetaKey.finishedCompactRev)!).main).toBe(1002);
    const left = await revisions(backend);
    // k1..k9 keep their last revision (992..1001), k0's history and tombstone are gone
    expect(left.slice(0, 9)).toEqual(['993', '994', '995', '996', '997', '998', '999', '1000', '1001']);
    expect(left.length).toBe(9 + writesDuring);
    await backend.close();
  });

  it('a failed background compaction is handed to the member, which stops (it used to log fatal and serve on)', async () => {
    const backend = await Backend.open(dir);
    const kv = await KvStore.open(backend, { compactionBatchLimit: 5 });
    for (let i = 0; i < 50; i++) kv.put(i + 1, { key: B('a'), value: B(`${i}`) });
    enableFailpoint('mvccCompactBatch', 'panic');
    try {
      const { done } = kv.compact(51, 40);
      await expect(done).rejects.toBeInstanceOf(FailpointError);
      const seen: unknown[] = [];
      kv.onFatal = (err) => seen.push(err); // set after the failure: still told
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(FailpointError);
    } finally {
      disableAllFailpoints();
      await backend.close();
    }
  });

  it('an interrupted compaction finishes after a reopen', async () => {
    let backend = await Backend.open(dir);
    let kv = await KvStore.open(backend, { compactionBatchLimit: 5 });
    for (let i = 0; i < 100; i++) kv.put(i + 1, { key: B('a'), value: B(`${i}`) }); // revs 2..101
    kv.compact(101, 90);
    await kv.settle();
    // as if the process died mid-way: old revisions still there, no finishedCompactRev
    backend.del(Bucket.meta, MetaKey.finishedCompactRev);
    for (let r = 2; r < 40; r++) backend.put(Bucket.key, Buffer.from(revKey(r)), Buffer.from('0a0161', 'hex'));
    await backend.close();
    backend = await Backend.open(dir);
    kv = await KvStore.open(backend, { compactionBatchLimit: 5 });
    expect(kv.compactRevision()).toBe(90);
    await kv.settle();
    expect(await revisions(backend)).toEqual(Array.from({ length: 12 }, (_, i) => String(90 + i)));
    expect(kv.range(B('a'), undefined, { revision: 90 }).kvs[0]!.value.toString()).toBe('88');
    await backend.close();
  });
});

function revKey(main: number): Uint8Array {
  const b = Buffer.alloc(17);
  b.writeUInt32BE(main, 4);
  b[8] = 0x5f;
  return b;
}
