// KvStore: the revisioned key space over a Backend (see index.ts for the model and contract).
import { Bucket, MetaKey, type Backend } from '../backend/index.js';
import type { Logger } from '../pkg/logger.js';
import { CaptureSpare, LiveRevisions } from './live-revisions.js';
import { compactionBatchLimit, hashBackend, hashKvAt, physicalCompact } from './compaction.js';
import { MvccError } from './errors.js';
import { decodeImage, encodeImage, ImageRejected } from './index-image.js';
import { decodeKvFields, type KvFields } from './kv-codec.js';
import { toSpan, TreeIndex } from './key-index.js';
import { rangeAt } from './range.js';
import { bytesToRev, revToBytes } from './revision.js';
import { StoreCore } from './store-core.js';
import { applyTxn } from './txn.js';
import type { DeleteRangeRequest, DeleteRangeResult, LeaseIndex, PutRequest, PutResult, RangeOptions, RangeResult, TxnRequest, TxnResult } from './types.js';
import { WatchHub, type WatchStream } from './watchable.js';
import { WriteTxn } from './write-txn.js';

export interface KvStoreOptions {
  logger?: Logger;
  /** The lessor's hook; without it leases are stored but never checked. */
  leases?: LeaseIndex;
  /** A key index image (KvStore.image() of an earlier close): used instead of the scan if it matches. */
  image?: AsyncIterable<Buffer>;
  /** Revision keys per physical compaction batch (default compactionBatchLimit, 1000). */
  compactionBatchLimit?: number;
  /** Memory nothing else uses any more, for the values loaded at open (ValueArena.adopt). */
  spareMemory?: readonly Buffer[];
}

export interface HashKvResult {
  hash: number;
  compactRevision: number;
  revision: number;
}

export class KvStore {
  private readonly core: StoreCore;
  private readonly hub: WatchHub;
  /** The last snapshot capture's arrays, for the next (live-revisions.ts CaptureSpare). */
  private readonly captureSpare = new CaptureSpare();
  private compaction: Promise<void> = Promise.resolve();
  /** Physical compactions scheduled and not yet finished (the backend holds revisions the index dropped). */
  private compacting = 0;
  private readonly compactionBatch: number;

  private constructor(core: StoreCore, compactionBatch: number) {
    this.core = core;
    this.compactionBatch = compactionBatch;
    this.hub = new WatchHub(core);
  }

  /** Open the store over a backend (see load). */
  static async open(backend: Backend, opts: KvStoreOptions = {}): Promise<KvStore> {
    const core = new StoreCore(backend, opts.leases, opts.logger?.child({ room: 'mvcc' }));
    const store = new KvStore(core, opts.compactionBatchLimit ?? compactionBatchLimit);
    if (opts.spareMemory) core.index.values.adopt(opts.spareMemory);
    try {
      await store.load(opts.image, 'opened');
    } finally {
      core.index.values.releaseSpare(core.index.all());
    }
    return store;
  }

  /**
   * etcd's Restore: the backend's whole state is being replaced (by `swap`, e.g. Backend.reopen with a
   * snapshot's database). Background compaction and watch catch-up are let finish and held; then the
   * key index is rebuilt from the new state and keys re-attached to their leases (the lessor must be
   * recovered first). Watchers carry on: each synced one catches up from the new state's history,
   * or, when that history was compacted past it, is canceled with the compact revision, as in etcd.
   */
  async restore(swap: () => Promise<void>): Promise<void> {
    await this.settle();
    await this.hub.pause();
    try {
      await swap();
      const c = this.core;
      c.index = new TreeIndex();
      c.currentRev = 1;
      c.compactRev = -1;
      await this.load(undefined, 'restored');
    } finally {
      this.hub.resume();
    }
  }

  /**
   * Build the key index (from the image when it describes this backend exactly, else by scanning the
   * backend), finish an interrupted physical compaction, attach keys to their leases.
   */
  private async load(image: AsyncIterable<Buffer> | undefined, why: 'opened' | 'restored'): Promise<void> {
    const core = this.core;
    const backend = core.backend;
    const scheduled = backend.get(Bucket.meta, MetaKey.scheduledCompactRev);
    const finished = backend.get(Bucket.meta, MetaKey.finishedCompactRev);
    const scheduledRev = scheduled ? bytesToRev(scheduled).main : 0;
    const finishedRev = finished ? bytesToRev(finished).main : 0;
    const compactRev = scheduled ? scheduledRev : -1;
    const from = image && (await loadImage(core, image, compactRev)) ? 'image' : 'scan';
    if (from === 'scan') await scanIndex(core);
    core.compactRev = compactRev;
    if (core.currentRev < scheduledRev) core.currentRev = scheduledRev;
    // An image holds the index as compacted in memory: only an unfinished compaction needs its keep set.
    if (scheduledRev > 0 && (from === 'scan' || scheduledRev !== finishedRev)) {
      const keep = core.index.compact(scheduledRev);
      if (scheduledRev !== finishedRev) this.compaction = this.counted(this.guard(scheduledRev, physicalCompact(backend, scheduledRev, keep, this.compactionBatch, this.onPauseMs)));
    }
    const leases = core.leases;
    core.liveKeys = 0;
    for (const ki of core.index.all()) {
      if (!ki.hasValue()) continue;
      core.liveKeys++;
      if (leases && ki.lease !== 0n) leases.attach(ki.lease, Buffer.from(ki.key, 'latin1'));
    }
    core.logger?.info({ keys: core.index.size, revision: core.currentRev, compactRevision: core.compactRev, from }, `mvcc store ${why}`);
  }

  /**
   * The key index image (index-image.ts) as chunks, for the server to write once the backend holds
   * everything (after settle() and the final commit). No write may happen while it is consumed.
   */
  *image(): Generator<Buffer> {
    const c = this.core;
    const header = { consistentIndex: c.backend.consistentIndex(), currentRev: c.currentRev, compactRev: c.compactRev, keyCount: c.index.size };
    yield* encodeImage(c.index, header);
    if (c.currentRev !== header.currentRev || c.backend.consistentIndex() !== header.consistentIndex || c.index.size !== header.keyCount) {
      throw new Error('mvcc: the store changed while its image was written');
    }
  }

  get backend(): Backend {
    return this.core.backend;
  }

  rev(): number {
    return this.core.currentRev;
  }

  compactRevision(): number {
    return this.core.compactRev;
  }

  /** Number of keys in the index (live or with history). */
  indexedKeys(): number {
    return this.core.index.size;
  }

  /** Range with etcd's RangeRequest semantics. Throws MvccError compacted / future-rev. Synchronous. */
  range(key: Buffer, rangeEnd: Buffer | undefined, opts: RangeOptions = {}): RangeResult {
    const c = this.core;
    c.ops.ranges++;
    return rangeAt({ index: c.index, backend: c.backend, viewRev: c.currentRev, compactRev: c.compactRev }, toSpan(key, rangeEnd), opts);
  }

  /** Open a write txn for raft entry raftIndex (null: a read-only view). Always call end(). */
  write(raftIndex: number | null): WriteTxn {
    return new WriteTxn(this.core, raftIndex);
  }

  /**
   * Put as one write txn. Throws MvccError key-not-found / lease-not-found (the index still advances).
   * As etcd's applier Put outside a txn, an unknown lease is refused before the key is looked up for
   * ignoreValue/ignoreLease (a put inside a txn checks the key first: txn.ts checkOps).
   */
  put(raftIndex: number, req: PutRequest): PutResult {
    const w = this.write(raftIndex);
    try {
      const lease = req.lease ?? 0n;
      if (lease !== 0n && this.core.leases && !this.core.leases.exists(lease)) throw new MvccError('lease-not-found');
      return w.put(req.key, req.value, lease, req);
    } finally {
      w.end();
    }
  }

  deleteRange(raftIndex: number, req: DeleteRangeRequest): DeleteRangeResult {
    const w = this.write(raftIndex);
    try {
      const r = w.deleteRange(req.key, req.rangeEnd, req);
      return { ...r, revision: w.viewRev() };
    } finally {
      w.end();
    }
  }

  /** Txn at one revision; raftIndex null for a local read-only txn. */
  txn(raftIndex: number | null, req: TxnRequest): TxnResult {
    return applyTxn(this.core, raftIndex, req);
  }

  /**
   * Logical compaction now (reads below rev fail with compacted), physical deletion in background
   * batches; `done` resolves when the revisions are deleted (into the pending batch). Throws MvccError
   * compacted (rev <= compactRevision) or future-rev (rev > rev()); the consistent index advances anyway.
   */
  compact(raftIndex: number, rev: number): { done: Promise<void> } {
    const c = this.core;
    const release = c.beginTxn();
    try {
      c.backend.setConsistentIndex(raftIndex);
      if (rev <= c.compactRev) throw new MvccError('compacted', c.compactRev);
      if (rev > c.currentRev) throw new MvccError('future-rev');
      c.compactRev = rev;
      c.backend.put(Bucket.meta, MetaKey.scheduledCompactRev, revToBytes(rev, 0));
      const indexStarted = performance.now();
      const keep = c.index.compact(rev);
      c.metricsHook?.('etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds', Math.floor(performance.now() - indexStarted));
      this.compaction = this.counted(this.compaction.then(() => this.guard(rev, physicalCompact(c.backend, rev, keep, this.compactionBatch, this.onPauseMs))));
      return { done: this.compaction };
    } finally {
      release();
    }
  }

  /** crc32c over the whole backend (Maintenance.Hash). */
  async hash(): Promise<number> {
    const started = performance.now();
    const h = await hashBackend(this.core.backend);
    this.core.metricsHook?.('etcd_mvcc_hash_duration_seconds', (performance.now() - started) / 1000);
    return h;
  }

  /** etcd's HashKV at rev (0 = current). Throws MvccError compacted / future-rev. */
  async hashKV(rev: number): Promise<HashKvResult> {
    const c = this.core;
    const compactRev = c.compactRev;
    const cur = c.currentRev;
    if (rev > 0 && rev <= compactRev) throw new MvccError('compacted', compactRev);
    if (rev > cur) throw new MvccError('future-rev');
    const at = rev > 0 ? rev : cur;
    const keep = c.index.keep(at);
    const started = performance.now();
    const hash = await hashKvAt(c.backend, at, compactRev, keep);
    c.metricsHook?.('etcd_mvcc_hash_rev_duration_seconds', (performance.now() - started) / 1000);
    return { hash, compactRevision: compactRev, revision: cur };
  }

  /** Counts for /metrics: operations so far (StoreCore.ops) and the watch hub's. */
  metricsStats(): StoreCore['ops'] & ReturnType<WatchHub['stats']> & { liveKeys: number; streams: number; eventsSent: number } {
    return { ...this.core.ops, ...this.hub.stats(), liveKeys: this.core.liveKeys, streams: this.hub.streams.size, eventsSent: this.hub.eventsSent };
  }

  /** Where compaction and hash timings go (etcd's family name, value in its unit). */
  set metricsHook(hook: ((family: string, value: number) => void) | undefined) {
    this.core.metricsHook = hook;
  }

  private fatalErr: unknown = undefined;
  private fatalHandler: ((err: unknown) => void) | undefined;

  /**
   * Where a failed background compaction goes (etcd's compaction panics on a backend error): the
   * member stops. A failure before the handler is set is handed to it when it is.
   */
  set onFatal(handler: (err: unknown) => void) {
    this.fatalHandler = handler;
    if (this.fatalErr !== undefined) handler(this.fatalErr);
  }

  private readonly onPauseMs = (ms: number): void => this.core.metricsHook?.('etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds', ms);

  watchStream(): WatchStream {
    return this.hub.newStream();
  }

  /**
   * Logs a finished background compaction (etcd's message); it stops quietly when the backend closes
   * (and resumes at the next open).
   */
  private guard(rev: number, p: Promise<number | undefined>): Promise<void> {
    const t0 = performance.now();
    return p.then((deleted) => {
      if (deleted !== undefined) {
        this.core.metricsHook?.('etcd_debugging_mvcc_db_compaction_total_duration_milliseconds', Math.floor(performance.now() - t0));
        this.core.metricsHook?.('etcd_debugging_mvcc_db_compaction_keys_total', deleted);
        this.core.logger?.info({ compactRevision: rev, deletedRevisions: deleted, tookMs: Math.round(performance.now() - t0) }, 'finished scheduled compaction');
      }
    }, (err: unknown) => {
      if (this.core.backend.isClosed()) return;
      this.core.logger?.fatal({ err }, 'physical compaction failed');
      this.fatalErr = err;
      this.fatalHandler?.(err);
      throw err;
    });
  }

  /** `p`, counted in `compacting` until it settles. */
  private counted(p: Promise<void>): Promise<void> {
    this.compacting++;
    const done = (): void => void this.compacting--;
    p.then(done, done);
    return p;
  }

  /**
   * The backend's key bucket as of now, from the key index and the history's stored bytes
   * (live-revisions.ts: load() it first), unless a compaction is deleting revisions; undefined then
   * (read the bucket). Synchronous: call it together with Backend.dump and both show the same moment.
   */
  liveRevisions(): LiveRevisions | undefined {
    return LiveRevisions.capture(this.core.index, this.compacting > 0, this.core.backend, this.captureSpare);
  }

  /**
   * Resolves once no physical compaction is deleting revisions (waiting for at most `rounds` of
   * them: compactions may keep coming), so that liveRevisions() called next, in the same step as
   * the reads of the other buckets, has a capture to give.
   */
  async compactionSettled(rounds = 3): Promise<void> {
    for (let i = 0; i < rounds && this.compacting > 0; i++) await this.compaction.catch(() => undefined);
  }

  /** Wait for background compaction, then flush and close the backend is the caller's job. */
  async settle(): Promise<void> {
    await this.compaction;
  }
}

/** The index from every revision in the backend's key bucket (the path without an image). */
async function scanIndex(core: StoreCore): Promise<void> {
  const f: KvFields = { keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0, createRevision: 0, version: 0, lease: 0n };
  core.index.beginBulkLoad();
  for await (const chunk of core.backend.iterateChunks(Bucket.key)) {
    for (const [k, v] of chunk) {
      const r = bytesToRev(k);
      decodeKvFields(v, f);
      const key = v.toString('latin1', f.keyStart, f.keyEnd);
      if (r.tombstone) {
        const ki = core.index.get(key);
        if (ki && ki.tombstone(r.main, r.sub)) {
          ki.clearValue();
          ki.lease = 0n;
        }
      } else {
        const ki = core.index.getOrCreate(key);
        ki.restore(r.main, r.sub, f.createRevision, f.version);
        ki.setValue(v.subarray(f.valueStart, f.valueEnd));
        ki.lease = f.lease;
      }
      if (r.main > core.currentRev) core.currentRev = r.main;
    }
  }
  core.index.endBulkLoad();
}

/**
 * The index from an image, if it describes this backend: same consistent index and compaction, and
 * the backend's newest revision is the image's. Anything else (stale, corrupt, truncated, unreadable)
 * is logged and refused whole: false, the index untouched, and the caller scans.
 */
async function loadImage(core: StoreCore, chunks: AsyncIterable<Buffer>, compactRev: number): Promise<boolean> {
  const ci = core.backend.consistentIndex();
  try {
    const img = await decodeImage(chunks, async (h) => {
      if (h.consistentIndex !== ci) throw new ImageRejected(`image at consistent index ${h.consistentIndex}, backend at ${ci}`);
      if (h.compactRev !== compactRev) throw new ImageRejected(`image compacted at ${h.compactRev}, backend at ${compactRev}`);
      await checkNewestRevision(core.backend, h.currentRev, compactRev);
    }, core.index);
    core.index.loadSorted(img.keys, img.kis);
    core.currentRev = img.header.currentRev;
    return true;
  } catch (err) {
    core.logger?.warn({ err: String(err), consistentIndex: ci }, 'key index image not used; rebuilding the index from the backend');
    return false;
  }
}

/** The scan would find `rev` as the store's revision: no revision above it, and one at it unless it is the floor. */
async function checkNewestRevision(backend: Backend, rev: number, compactRev: number): Promise<void> {
  const any = async (gte: Buffer, lt?: Buffer): Promise<boolean> => {
    for await (const chunk of backend.iterateChunks(Bucket.key, gte, lt, 1)) if (chunk.length > 0) return true;
    return false;
  };
  if (await any(revToBytes(rev + 1, 0))) throw new ImageRejected(`the backend holds revisions after the image's ${rev}`);
  if (rev > Math.max(1, compactRev) && !(await any(revToBytes(rev, 0), revToBytes(rev + 1, 0)))) {
    throw new ImageRejected(`the backend holds no revision ${rev}`);
  }
}
