/*
 * MVCC: etcd's revisioned key space and watch, over the Backend.
 *
 * Model: every write transaction (put, delete, txn) is one main revision; each change inside it gets a
 * sub revision (0, 1, ...). Each version is stored in the backend bucket `key` under its revision key
 * (8-byte BE main, '_', 8-byte BE sub, + 't' for a deletion) with the mvccpb.KeyValue proto as value.
 * Worked example, from an empty store:
 *   put foo=bar        → rev 1 → "key/" 00..01 5f 00..00 → {foo, create 1, mod 1, version 1, bar}
 *   txn{put a, put b}  → rev 2, subs 0 and 1 (one revision for the whole txn)
 *   delete foo         → rev 3 → "key/" 00..03 5f 00..00 74 → {key foo} (tombstone); foo's version resets
 * The in-memory key index (sorted-btree B-tree + Map, keys as latin1 strings) maps each key to its
 * generations of revisions and holds the live value, so reads at the current revision, Txn compares
 * and Txn reads are synchronous; older versions are read synchronously from LevelDB (getSync) through
 * the pending batch. At open the index comes from a key index image when one is given and matches
 * the backend (index-image.ts: the index written whole at the previous graceful close, in key order,
 * CRC-32C-checked; used only if its consistent index, compact revision and newest revision are the
 * backend's, else refused whole with a warning), otherwise from a scan of every revision in `key`.
 *
 * Contract (caller: the server's apply loop, in raft order, never concurrently):
 *   const kv = await KvStore.open(backend, { logger, leases, image });   // leases: LeaseIndex (src/lease),
 *                                      // image: AsyncIterable<Buffer> of an earlier kv.image(), optional
 *   kv.put(raftIndex, { key, value, lease, prevKv, ignoreValue, ignoreLease }) → PutResult
 *   kv.deleteRange(raftIndex, { key, rangeEnd, prevKv }) → DeleteRangeResult
 *   kv.txn(raftIndex, { compare, success, failure }) → TxnResult      (raftIndex null: local read-only)
 *   kv.compact(raftIndex, rev) → { done }            (done: physical deletion queued in the backend)
 *   kv.write(raftIndex) → WriteTxn (.put/.deleteRange/.range, then .end() ALWAYS, e.g. in finally)
 *   kv.range(key, rangeEnd, opts) → RangeResult       (sync; any revision)
 *   kv.rev(), kv.compactRevision(), await kv.hash(), await kv.hashKV(rev)
 *   kv.image() → Generator<Buffer>: the key index image, once the backend holds everything (after
 *     settle() and a commit) and while nothing writes; the caller stores it and passes it back to open
 *   await kv.restore(swap): the backend's state is replaced by swap() (a snapshot install); the index is
 *     rebuilt from it, keys re-attached to leases, watchers catch up from the new history (etcd's Restore)
 *   kv.watchStream() → WatchStream: .watch({ key, rangeEnd, startRevision, prevKv, filters, id }) → id,
 *     .cancel(id), await .next() / for await → WatchResponse { watchId, events, revision, compactRevision? }
 * Every apply call records raftIndex as the backend's consistent index in the same batch as its
 * changes, even when it fails with an MvccError (the entry was applied, with an error result).
 * rangeEnd has etcd's meaning: undefined/empty = the key only, "\0" = all keys >= key, else [key, end).
 * Domain outcomes are thrown as MvccError { code } (errors.ts lists the etcd text for each code).
 * Returned KeyValue buffers are shared with the store: callers must not mutate them.
 */
export { KvStore, type KvStoreOptions, type HashKvResult } from './kvstore.js';
export { WriteTxn } from './write-txn.js';
export { WatchStream, watchStreamQueueLimit, syncReadLimit, type WatchRequest, type WatchResponse } from './watchable.js';
export { MvccError, type MvccErrorCode } from './errors.js';
export { encodeKv, decodeKv } from './kv-codec.js';
export { revToBytes, bytesToRev } from './revision.js';
export { compactionBatchLimit } from './compaction.js';
export type { LiveRevisions } from './live-revisions.js';
export type * from './types.js';
