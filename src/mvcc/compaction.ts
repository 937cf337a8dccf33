// Physical compaction (delete revisions a logical compaction no longer needs, in batches that yield to
// writers) and the hashes (Hash over the whole backend, HashKV as etcd computes it).
import { Bucket, MetaKey, type Backend } from '../backend/index.js';
import { crc32c } from '../pkg/crc32c.js';
import { failpoint } from '../pkg/failpoints.js';
import { bytesToRev, revId, revToBytes } from './revision.js';

/** Revision keys examined per physical compaction batch (etcd's compaction-batch-limit). */
export const compactionBatchLimit = 1000;

function mainRevEnd(rev: number): Buffer {
  return revToBytes(rev + 1, 0).subarray(0, 8);
}

/** Delete every revision key with main <= rev that is not in `keep`, then record finishedCompactRev. */
export async function physicalCompact(
  backend: Backend, rev: number, keep: Set<string>, batch = compactionBatchLimit, onPauseMs?: (ms: number) => void,
): Promise<number | undefined> {
  let from: Buffer = revToBytes(0, 0);
  let deleted = 0;
  const end = mainRevEnd(rev);
  for (;;) {
    if (backend.isClosed()) return undefined; // resumed from scheduledCompactRev at the next open
    const keys: Buffer[] = [];
    for await (const [k] of backend.iterate(Bucket.key, from, end, batch)) {
      keys.push(k);
      if (keys.length >= batch) break;
    }
    failpoint('mvccCompactBatch');
    if (backend.isClosed()) return undefined;
    let last = { main: 0, sub: 0 };
    const paused = performance.now();
    for (const k of keys) {
      last = bytesToRev(k);
      if (!keep.has(revId(last.main, last.sub))) {
        backend.del(Bucket.key, k);
        deleted++;
      }
    }
    onPauseMs?.(Math.floor(performance.now() - paused));
    if (keys.length < batch) {
      backend.put(Bucket.meta, MetaKey.finishedCompactRev, revToBytes(rev, 0));
      failpoint('mvccCompactDone');
      return deleted;
    }
    from = revToBytes(last.main, last.sub + 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** crc32c over every backend entry except meta/consistent_index (which differs between members). */
export async function hashBackend(backend: Backend): Promise<number> {
  await backend.commit();
  const skip = Buffer.concat([Buffer.from(`${Bucket.meta}/`), MetaKey.consistentIndex]);
  const it = backend.db.iterator({});
  let h = 0;
  try {
    for (;;) {
      const chunk = await it.nextv(1000);
      for (const [k, v] of chunk) {
        if (k.equals(skip)) continue;
        h = crc32c(v, crc32c(k, h));
      }
      if (chunk.length === 0) break;
    }
  } finally {
    await it.close();
  }
  return h;
}

/**
 * etcd's HashKV: crc32c of "key", then of each (revision key, stored value) with main <= rev, skipping
 * revisions at or below the compact revision that the compaction will not keep.
 */
export async function hashKvAt(backend: Backend, rev: number, compactRev: number, keep: Set<string>): Promise<number> {
  let h = crc32c(Buffer.from('key'));
  for await (const [k, v] of backend.iterate(Bucket.key, undefined, revToBytes(rev + 1, 0))) {
    const r = bytesToRev(k);
    if (r.main <= compactRev && keep.size > 0 && !keep.has(revId(r.main, r.sub))) continue;
    h = crc32c(v, crc32c(k, h));
  }
  return h;
}
