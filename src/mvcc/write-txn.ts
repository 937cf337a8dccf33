// One write transaction = one main revision. Changes apply synchronously to the key index and the
// backend's pending batch (sub revision = number of changes before it); end() records the raft index
// in the same batch, advances the store revision if anything changed and notifies watchers.
import { InvariantError } from '../pkg/invariant.js';
import { Bucket } from '../backend/index.js';
import { MvccError } from './errors.js';
import { encodeKv } from './kv-codec.js';
import { toSpan } from './key-index.js';
import { liveKv, rangeAt, type ReadView } from './range.js';
import { revToBytes } from './revision.js';
import type { StoreCore } from './store-core.js';
import type { DeleteRangeResult, Event, KeyValue, PutOptions, PutResult, RangeOptions, RangeResult } from './types.js';

export class WriteTxn {
  readonly beginRev: number;
  private readonly changes: Event[] = [];
  private ended = false;
  /** Ranges, puts and deletes in this txn (for the store's ops counts). */
  private opCount = 0;
  private readonly release: () => void;
  /**
   * Each changed key's value before this txn, for watch events' prev_kv (etcd reads it at the
   * event's revision - 1, so a key changed twice in one txn shows its pre-txn value both times).
   * Made only once a second change comes (for speed: a lone put or delete needs none).
   */
  private before: Map<string, KeyValue | undefined> | undefined;

  constructor(
    private readonly store: StoreCore,
    /** null = a read-only view (serializable reads); writing throws. */
    private readonly raftIndex: number | null,
  ) {
    this.beginRev = store.currentRev;
    this.release = store.beginTxn();
  }

  /** The revision this txn's reads see: its own changes included. */
  viewRev(): number {
    return this.beginRev + (this.changes.length > 0 ? 1 : 0);
  }

  view(): ReadView {
    return { index: this.store.index, backend: this.store.backend, viewRev: this.viewRev(), compactRev: this.store.compactRev };
  }

  range(key: Buffer, rangeEnd: Buffer | undefined, opts: RangeOptions = {}): RangeResult {
    this.assertOpen();
    this.opCount++;
    this.store.ops.ranges++;
    return rangeAt(this.view(), toSpan(key, rangeEnd), opts);
  }

  /** Throws MvccError key-not-found (ignoreValue/ignoreLease on a missing key) or lease-not-found. */
  put(key: Buffer, value: Buffer, lease = 0n, opts: PutOptions = {}): PutResult {
    this.assertWritable();
    const { index, backend, leases } = this.store;
    const k = key.toString('latin1');
    const existing = index.get(k);
    // the key's live version, its key the caller's bytes (liveKv would copy the index's string again)
    const prev: KeyValue | undefined = existing && existing.hasValue()
      ? { key, createRevision: existing.createRevision(), modRevision: existing.modRevision(), version: existing.version(), value: existing.value(), lease: existing.lease }
      : undefined;
    if ((opts.ignoreValue || opts.ignoreLease) && !prev) throw new MvccError('key-not-found');
    if (opts.ignoreValue) value = prev!.value;
    if (opts.ignoreLease) lease = prev!.lease;
    else if (lease !== 0n && leases && !leases.exists(lease)) throw new MvccError('lease-not-found');
    const rev = this.beginRev + 1;
    const sub = this.changes.length;
    const kv: KeyValue = { key, createRevision: prev ? prev.createRevision : rev, modRevision: rev, version: prev ? prev.version + 1 : 1, value, lease };
    const enc = encodeKv(kv);
    backend.put(Bucket.key, revToBytes(rev, sub), enc.bytes);
    const ki = existing ?? index.getOrCreate(k);
    ki.put(rev, sub);
    ki.setValue(enc.bytes.subarray(enc.valueOffset, enc.valueOffset + value.length));
    kv.value = ki.value();
    ki.lease = lease === 0n ? 0n : lease; // the literal is one shared BigInt; a request's 0n is a BigInt object per key
    if (leases) {
      if (prev && prev.lease !== 0n) leases.detach(prev.lease, key);
      if (lease !== 0n) leases.attach(lease, key);
    }
    const watchPrev = this.prevForWatch(key, prev);
    this.changes.push(watchPrev ? { type: 'PUT', kv, prevKv: watchPrev } : { type: 'PUT', kv });
    this.opCount++;
    if (!prev) this.store.liveKeys++;
    this.store.ops.puts++;
    this.store.ops.putBytes += key.length + value.length;
    return opts.prevKv && prev ? { revision: rev, prevKv: prev } : { revision: rev };
  }

  deleteRange(key: Buffer, rangeEnd: Buffer | undefined, opts: { prevKv?: boolean } = {}): DeleteRangeResult {
    this.assertWritable();
    const { index, backend, leases } = this.store;
    const live = [...index.range(toSpan(key, rangeEnd))].filter((ki) => ki.hasValue());
    this.opCount++;
    this.store.liveKeys -= live.length;
    this.store.ops.deletes++;
    const prevKvs: KeyValue[] = [];
    const rev = this.beginRev + 1;
    for (const ki of live) {
      const prev = liveKv(ki);
      if (opts.prevKv) prevKvs.push(prev);
      const sub = this.changes.length;
      backend.put(Bucket.key, revToBytes(rev, sub, true), encodeKv({ key: prev.key, createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n }).bytes);
      ki.tombstone(rev, sub);
      ki.clearValue();
      ki.lease = 0n;
      if (leases && prev.lease !== 0n) leases.detach(prev.lease, prev.key);
      const kv: KeyValue = { key: prev.key, createRevision: 0, modRevision: rev, version: 0, value: Buffer.alloc(0), lease: 0n };
      const watchPrev = this.prevForWatch(prev.key, prev);
      this.changes.push(watchPrev ? { type: 'DELETE', kv, prevKv: watchPrev } : { type: 'DELETE', kv });
    }
    return { deleted: live.length, prevKvs, revision: this.changes.length > 0 ? rev : this.beginRev };
  }

  /** Finish: consistent index into the batch, revision + 1 if anything changed, watchers notified. */
  end(): number {
    this.assertOpen();
    this.ended = true;
    if (this.opCount > 1) this.store.ops.txns++;
    try {
      if (this.raftIndex !== null) this.store.backend.setConsistentIndex(this.raftIndex);
      if (this.changes.length === 0) return this.beginRev;
      // revisions only increase: nothing moved the store's revision while this txn was open
      const current = this.store.currentRev;
      if (current !== this.beginRev) throw new InvariantError('mvcc', `revision would go from ${current} to ${this.beginRev + 1}`);
      this.store.currentRev = this.beginRev + 1;
      this.store.index.compactValuesIfDue();
      this.store.notify(this.changes, this.beginRev + 1);
      return this.beginRev + 1;
    } finally {
      this.release();
    }
  }

  /** The prev_kv of this txn's next event on `key`, whose value now is `now` (see `before`). */
  private prevForWatch(key: Buffer, now: KeyValue | undefined): KeyValue | undefined {
    if (this.changes.length === 0) return now;
    if (this.before === undefined) {
      this.before = new Map();
      for (const c of this.changes) {
        const k = c.kv.key.toString('latin1');
        if (!this.before.has(k)) this.before.set(k, c.prevKv);
      }
    }
    const k = key.toString('latin1');
    if (this.before.has(k)) return this.before.get(k);
    this.before.set(k, now);
    return now;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error('mvcc: write txn already ended');
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.raftIndex === null) throw new Error('mvcc: write in a read-only txn');
  }
}
