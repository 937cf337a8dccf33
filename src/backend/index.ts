/*
 * Backend: the server's state in one LevelDB database (package `level` / classic-level).
 *
 * Layout: `<data-dir>/member/snap/db` is a LevelDB directory (the server picks the path). Every key is
 * `<bucket>/<key>` with the buckets named in schema.ts: key (MVCC revisions), meta (consistent_index,
 * scheduledCompactRev, finishedCompactRev), lease, auth, authUsers, authRoles, members,
 * members_removed, cluster, alarm. Example: after applying raft entry 7 that put foo=bar at revision 2,
 * the database holds "key/" + rev(2,0) → KeyValue proto of foo and "meta/consistent_index" → 7 as
 * 8 bytes big-endian, both written by the same LevelDB batch.
 *
 * Model: one pending write batch. put/del/setConsistentIndex are synchronous and land in the pending
 * batch; reads (get, iterate) see pending and in-flight writes first, then LevelDB. The batch is written
 * atomically (one LevelDB write batch) at most batchIntervalMs (100) after its first write, as soon as
 * it holds batchLimit (10,000) keys, or on commit(). A batch is never written in the middle of a
 * synchronous apply step, so a raft entry's changes and its consistent index are always in the same
 * batch: after a crash, consistentIndex() is the last entry whose changes are all on disk, and replay
 * from consistentIndex()+1 applies each entry exactly once. A failed batch write is fatal: every later
 * write throws BackendFatalError.
 *
 * Contract (callers: mvcc, lease, auth, membership, alarm, server):
 *   const b = await Backend.open(path, { logger, batchIntervalMs, batchLimit });
 *   b.put(Bucket.lease, id8, record); b.del(bucket, key); b.get(bucket, key) -> Buffer | undefined (sync)
 *   for await (const [k, v] of b.iterate(bucket, gte?, lt?)) ...     // at open time, or consistent reads
 *   b.setConsistentIndex(raftIndex)  // in the same synchronous step as that entry's writes
 *   b.consistentIndex(); await b.commit();  // before a snapshot or shutdown (fsync'ed)
 *   b.size(); b.sizeInUse(); b.pendingOps(); await b.defragment(); b.isClosed(); await b.close();
 *   for await (const chunk of b.iterateChunks(bucket)) ...  // arrays of [key, value], for full scans
 *   b.dump() -> chunks of [key, value] of the whole database as of the call (pending writes included)
 *   snapshotStream(b) -> AsyncGenerator<Buffer> (b.dump() in the format of snapshot.ts), verifiedSnapshot(chunks),
 *   restoreSnapshot(newPath, chunks)
 *   await b.reopen(swap): close, let `swap` replace the directory, open again (a snapshot install);
 *   prepareRestore / swapInRestored / recoverSwap: that replacement made crash-safe (install.ts)
 */
export { Backend, BackendFatalError, defaultBatchIntervalMs, defaultBatchLimit, type BackendOptions, type BucketSnapshot } from './backend.js';
export { Bucket, MetaKey, bucketPrefix, dbKey, type BucketName } from './schema.js';
export { snapshotStream, restoreSnapshot, restoreEntries, verifiedSnapshot, SnapshotDecoder, SnapshotFormatError, snapshotMagic } from './snapshot.js';
export { prepareRestore, prepareRestoreWith, swapInRestored, recoverSwap, restorePathOf, oldPathOf, SWAP_FAILPOINTS, type StoreIo, type SwapRecovery } from './install.js';
export type { Engine, EngineIterator, EngineOp, EngineSnapshot, Engines } from './engine.js';
