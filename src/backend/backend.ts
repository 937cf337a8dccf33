import type { Clock, TimerHandle } from '../pkg/clock.js';
import { failpoint } from '../pkg/failpoints.js';
import { InvariantError } from '../pkg/invariant.js';
import type { Logger } from '../pkg/logger.js';
import { levelEngines } from '../platform/level.js';
import { systemClock } from '../platform/clock.js';
import type { Engine, Engines } from './engine.js';
import { closingOnReturn, mergeChunks } from './merge.js';
import { Bucket, MetaKey, bucketPrefix, dbKey, type BucketName } from './schema.js';

export interface BackendOptions {
  logger?: Logger;
  /** Flush the pending batch at most this long after its first write. */
  batchIntervalMs?: number;
  /** Flush as soon as the pending batch holds this many operations. */
  batchLimit?: number;
  /** Told how long each batch write took, in seconds (etcd_disk_backend_commit_duration_seconds). */
  observeCommit?: (seconds: number) => void;
  /** The store underneath (default LevelDB: platform/level.ts). */
  engines?: Engines;
  /** Timers of the batch flush and size refresh (default the system clock). */
  clock?: Clock;
}

export const defaultBatchIntervalMs = 100;
export const defaultBatchLimit = 10_000;
/** The database sizes (quota check, Status, metrics) are refreshed at most this often under load. */
const sizeRefreshMs = 1000;

type Pending = Map<string, Buffer | null>; // latin1 db key → value, null = delete

const prefixStrings = new Map<string, string>();
function pendingKey(bucket: BucketName, key: Uint8Array): string {
  let p = prefixStrings.get(bucket);
  if (p === undefined) prefixStrings.set(bucket, (p = bucketPrefix(bucket).toString('latin1')));
  return p + (Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)).toString('latin1');
}
function encodeIndex(index: number): Buffer {
  const v = Buffer.allocUnsafe(8);
  v.writeUInt32BE(Math.floor(index / 0x100000000), 0);
  v.writeUInt32BE(index >>> 0, 4);
  return v;
}

/** Bytes LevelDB iterators fetch per native call. */
const iteratorReadAheadBytes = 1 << 20;

const consistentIndexKey = dbKey(Bucket.meta, MetaKey.consistentIndex).toString('latin1');

/** Backend.snapshotReader's reads of one bucket at one moment. */
export interface BucketSnapshot {
  getMany(keys: Uint8Array[]): Promise<(Buffer | undefined)[]>;
  close(): Promise<void>;
}

/** Thrown by every write once a batch write failed: the backend is no longer writable. */
export class BackendFatalError extends Error {}

/**
 * LevelDB with one pending write batch. Writes are synchronous (they go to the pending batch); the batch
 * is written atomically in the background; reads see pending and in-flight writes first.
 */
export class Backend {
  private pending: Pending = new Map();
  private flushing: Pending | null = null;
  private timer: TimerHandle | null = null;
  private flushSoon = false;
  private flushPromise: Promise<void> | null = null;
  private fatal: Error | null = null;
  private ci = 0;
  private ciDirty = false;
  private holds = 0;
  /** The raft index whose apply is in progress (0: none), and whether it has written yet. */
  private applying = 0;
  private applyWrote = false;
  private sizeBytes = 0;
  private sizeInUseBytes = 0;
  private sizeRefreshedAt = 0;
  private sizeTimer: TimerHandle | null = null;
  private closed = false;
  private closing = false;

  private constructor(
    readonly path: string,
    private level: Engine,
    private readonly logger: Logger | undefined,
    private readonly batchIntervalMs: number,
    private readonly batchLimit: number,
    private readonly observeCommit: ((seconds: number) => void) | undefined,
    readonly engines: Engines,
    private readonly clock: Clock,
  ) {}

  static async open(path: string, opts: BackendOptions = {}): Promise<Backend> {
    const engines = opts.engines ?? levelEngines;
    const b = new Backend(
      path, await engines.open(path), opts.logger?.child({ room: 'backend' }), opts.batchIntervalMs ?? defaultBatchIntervalMs,
      opts.batchLimit ?? defaultBatchLimit, opts.observeCommit, engines, opts.clock ?? systemClock,
    );
    b.loadConsistentIndex();
    await b.refreshSize();
    return b;
  }

  /** The store (the one at `path` now: reopen() replaces it). */
  get db(): Engine {
    return this.level;
  }

  /**
   * Replaces the database at `path` with another: the pending batch is written, the database closed,
   * `swap` run (it puts the new directory at `path`: install.ts), and the new one opened. Iterators
   * still open on the old database fail; the caller keeps readers and writers away meanwhile.
   */
  async reopen(swap: () => Promise<void>): Promise<void> {
    await this.commit({ sync: false });
    await this.level.close();
    await swap();
    this.level = await this.engines.open(this.path);
    this.loadConsistentIndex();
    await this.refreshSize();
    this.logger?.info({ path: this.path, consistentIndex: this.ci }, 'backend database replaced');
  }

  private loadConsistentIndex(): void {
    const ci = this.level.getSync(dbKey(Bucket.meta, MetaKey.consistentIndex));
    this.ci = ci ? Number(ci.readBigUInt64BE(0)) : 0;
    this.ciDirty = false;
  }

  // ---- reads (see pending writes) ----

  /** The value of `key` in `bucket`, including writes not yet flushed. Synchronous (LevelDB getSync). */
  get(bucket: BucketName, key: Uint8Array): Buffer | undefined {
    const k = dbKey(bucket, key);
    const s = k.toString('latin1');
    if (this.ciDirty && s === consistentIndexKey) return encodeIndex(this.ci);
    if (this.pending.has(s)) return this.pending.get(s) ?? undefined;
    if (this.flushing?.has(s)) return this.flushing.get(s) ?? undefined;
    return this.db.getSync(k);
  }

  /**
   * Entries of `bucket` with gte <= key < lt (keys without the bucket prefix), in key order, as of the
   * call: later writes are not seen. Includes pending writes.
   */
  async *iterate(bucket: BucketName, gte?: Uint8Array, lt?: Uint8Array, batchSize = 1000): AsyncGenerator<[Buffer, Buffer]> {
    for await (const chunk of this.iterateChunks(bucket, gte, lt, batchSize)) yield* chunk;
  }

  /** As iterate, in chunks (cheaper for full scans such as the index rebuild). */
  async *iterateChunks(bucket: BucketName, gte?: Uint8Array, lt?: Uint8Array, batchSize = 1000): AsyncGenerator<[Buffer, Buffer][]> {
    const prefix = bucketPrefix(bucket);
    const lo = gte ? Buffer.concat([prefix, gte]) : prefix;
    const hi = lt ? Buffer.concat([prefix, lt]) : Buffer.concat([prefix.subarray(0, prefix.length - 1), Buffer.from([prefix[prefix.length - 1]! + 1])]);
    yield* this.merged(lo, hi, prefix.length, batchSize);
  }

  /**
   * Every entry of the database (full keys, every bucket), pending writes and the consistent index
   * included, in key order and in chunks: the state at the moment of the call (captured synchronously,
   * read later), however the database changes while it is read. For snapshots.
   */
  dump(batchSize = 1000): AsyncGenerator<[Buffer, Buffer][]> {
    return this.merged(Buffer.alloc(0), Buffer.from([0xff]), 0, batchSize);
  }

  /**
   * As dump, without the entries of `bucket`: those before it and those after it, both captured
   * now. Read both to the end (or return() them): each holds a LevelDB iterator until then.
   */
  dumpAround(bucket: BucketName, batchSize = 1000): [AsyncGenerator<[Buffer, Buffer][]>, AsyncGenerator<[Buffer, Buffer][]>] {
    const prefix = bucketPrefix(bucket);
    const end = Buffer.from(prefix);
    end[end.length - 1]!++;
    return [this.merged(Buffer.alloc(0), prefix, 0, batchSize), this.merged(end, Buffer.from([0xff]), 0, batchSize)];
  }

  /**
   * Point reads of `bucket` as of this call (pending writes included, later writes not seen):
   * `getMany(keys)` takes keys without the bucket prefix and gives their values, undefined when
   * absent. Close it when done (the LevelDB snapshot under it pins the versions it sees).
   */
  snapshotReader(bucket: BucketName): BucketSnapshot {
    const prefix = bucketPrefix(bucket);
    const p = prefix.toString('latin1');
    const overlay = new Map<string, Buffer | null>();
    for (const m of [this.flushing, this.pending]) {
      if (m) for (const [k, v] of m) if (k.startsWith(p)) overlay.set(k, v);
    }
    const snap = this.level.snapshot();
    return {
      getMany: async (keys) => {
        // views of one buffer: a Buffer each would be an ArrayBuffer each (~25% of the reads' CPU)
        let total = 0;
        for (const k of keys) total += prefix.length + k.length;
        const all = Buffer.allocUnsafeSlow(total);
        const full = new Array<Buffer>(keys.length);
        let at = 0;
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!;
          all.set(prefix, at);
          all.set(k, at + prefix.length);
          full[i] = all.subarray(at, (at += prefix.length + k.length));
        }
        if (overlay.size === 0) return snap.getMany(full);
        const out = await snap.getMany(full);
        for (let i = 0; i < full.length; i++) {
          const o = overlay.get(full[i]!.toString('latin1'));
          if (o !== undefined) out[i] = o ?? undefined;
        }
        return out;
      },
      close: () => snap.close(),
    };
  }

  /**
   * LevelDB's entries in [lo, hi) with the pending writes over them, both captured now; keys lose
   * `strip` bytes. The LevelDB iterator is closed when the chunks end or return() is called, even
   * if they were never read.
   */
  private merged(lo: Buffer, hi: Buffer, strip: number, batchSize: number): AsyncGenerator<[Buffer, Buffer][]> {
    const overlay = this.overlayIn(lo, hi);
    const it = this.level.iterator({ gte: lo, lt: hi, highWaterMarkBytes: iteratorReadAheadBytes });
    return closingOnReturn(mergeChunks(it, overlay, strip, batchSize), () => it.close());
  }

  private overlayIn(lo: Buffer, hi: Buffer): [Buffer, Buffer | null][] {
    const merged = new Map<string, Buffer | null>(this.flushing ?? []);
    for (const [k, v] of this.pending) merged.set(k, v);
    if (this.ciDirty) merged.set(consistentIndexKey, encodeIndex(this.ci));
    const loS = lo.toString('latin1');
    const hiS = hi.toString('latin1');
    const out: [Buffer, Buffer | null][] = [];
    for (const [k, v] of merged) if (k >= loS && k < hiS) out.push([Buffer.from(k, 'latin1'), v]);
    out.sort((a, b) => Buffer.compare(a[0], b[0]));
    return out;
  }

  // ---- writes (synchronous, into the pending batch) ----

  put(bucket: BucketName, key: Uint8Array, value: Buffer): void {
    this.write(pendingKey(bucket, key), value);
  }

  del(bucket: BucketName, key: Uint8Array): void {
    this.write(pendingKey(bucket, key), null);
  }

  /** Record the raft index whose changes are in the pending batch: committed atomically with them. */
  setConsistentIndex(index: number): void {
    if (index < this.ci) throw new InvariantError('backend', `consistent index going back from ${this.ci} to ${index}`);
    if (this.fatal) throw this.notWritable();
    // materialized into the batch when it is written (flushes never split an apply step)
    this.ci = index;
    this.ciDirty = true;
    if (!this.timer) this.scheduleFlush(this.batchIntervalMs);
  }

  /** The last applied raft index, including the pending batch. */
  consistentIndex(): number {
    return this.ci;
  }

  /**
   * The apply of raft entry `index` starts (the applier brackets each entry with beginApply and
   * endApply). Until it ends no batch is written: its writes and its consistent index land in the
   * same batch, or a crash could keep half of it (InvariantError otherwise; an apply is synchronous,
   * so only a bug, an apply that awaits or commits, can break it). Costs a compare and a store.
   */
  beginApply(index: number): void {
    if (this.applying !== 0) throw new InvariantError('backend', `apply of entry ${index} began inside the apply of entry ${this.applying}`);
    this.applying = index;
    this.applyWrote = false;
  }

  /** The apply started by beginApply ends: if it wrote, its consistent index must be set. */
  endApply(): void {
    const index = this.applying;
    this.applying = 0;
    if (this.fatal instanceof InvariantError) throw this.fatal;
    if (this.applyWrote && this.ci < index) {
      throw new InvariantError('backend', `the apply of entry ${index} wrote without setting its consistent index (still ${this.ci})`);
    }
  }

  /**
   * Hold flushing while a multi-step write (one raft entry) is in progress so that no batch ever splits
   * an entry. Returns the release function. Writers are synchronous today; this guards future awaits.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0 && this.pending.size >= this.batchLimit) this.scheduleFlush(0);
    };
  }

  private write(k: string, v: Buffer | null): void {
    if (this.fatal) throw this.notWritable();
    if (this.closed) throw new Error('backend closed');
    if (this.applying !== 0) this.applyWrote = true;
    this.pending.set(k, v);
    if (this.pending.size >= this.batchLimit) {
      if (!this.flushSoon) this.scheduleFlush(0);
    } else if (!this.timer) this.scheduleFlush(this.batchIntervalMs);
  }

  /** Number of operations waiting in the pending batch (the caller may await commit() when large). */
  pendingOps(): number {
    return this.pending.size;
  }

  private scheduleFlush(delayMs: number): void {
    if (this.timer && (delayMs > 0 || this.flushSoon)) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.flushSoon = delayMs === 0;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.flushSoon = false;
      void this.flush().catch(() => undefined);
    }, delayMs);
  }

  /** Write the pending batch (after any in-flight one). Resolves when it is in LevelDB. */
  commit(opts: { sync?: boolean } = {}): Promise<void> {
    return this.flush(opts.sync ?? true);
  }

  /** The error a write gets once the backend failed: a broken invariant itself, else BackendFatalError. */
  private notWritable(): Error {
    const f = this.fatal!;
    return f instanceof InvariantError ? f : new BackendFatalError(`backend is not writable: ${f.message}`);
  }

  private async flush(sync = false): Promise<void> {
    while (this.flushPromise) await this.flushPromise.catch(() => undefined);
    if (this.fatal) throw this.fatal;
    if (this.applying !== 0) {
      // a batch cut now would hold part of an apply without its consistent index
      this.fatal = new InvariantError('backend', `a batch commit inside the apply of entry ${this.applying} would split it`);
      this.logger?.fatal({ err: this.fatal.message }, 'backend invariant broken');
      throw this.fatal;
    }
    if (this.holds > 0) {
      this.scheduleFlush(1);
      return;
    }
    if (this.pending.size === 0 && !this.ciDirty) return;
    if (this.ciDirty) {
      this.pending.set(consistentIndexKey, encodeIndex(this.ci));
      this.ciDirty = false;
    }
    if (this.timer) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
      this.flushSoon = false;
    }
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = batch;
    this.flushPromise = this.writeBatch(batch, sync);
    try {
      await this.flushPromise;
    } finally {
      this.flushPromise = null;
      this.flushing = null;
    }
    if (this.pending.size >= this.batchLimit) this.scheduleFlush(0);
  }

  private async writeBatch(batch: Pending, sync: boolean): Promise<void> {
    const ops: ({ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer })[] = [];
    for (const [k, v] of batch) ops.push(v ? { type: 'put', key: Buffer.from(k, 'latin1'), value: v } : { type: 'del', key: Buffer.from(k, 'latin1') });
    failpoint('backendBeforeCommit');
    const started = this.clock.monoMs();
    try {
      await this.db.batch(ops, sync);
      this.observeCommit?.((this.clock.monoMs() - started) / 1000);
    } catch (err) {
      this.fatal = err as Error;
      this.logger?.fatal({ err }, 'backend batch write failed');
      throw err;
    }
    failpoint('backendAfterCommit');
    this.refreshSizeSoon();
  }

  // ---- size ----

  /** Bytes of the database files on disk (refreshed after each batch). */
  size(): number {
    return this.sizeBytes;
  }

  /** Approximate bytes holding live data (LevelDB's approximateSize over all keys). */
  sizeInUse(): number {
    return this.sizeInUseBytes;
  }

  /**
   * After a batch: the sizes now, or at most once a second while batches keep coming (a stat of
   * every file plus LevelDB's approximateSize after each batch cost ~1% of a put's CPU under load).
   */
  private refreshSizeSoon(): void {
    if (this.sizeTimer) return;
    const wait = this.sizeRefreshedAt + sizeRefreshMs - this.clock.monoMs();
    if (wait <= 0) {
      void this.refreshSize();
      return;
    }
    this.sizeTimer = this.clock.setTimeout(() => {
      this.sizeTimer = null;
      void this.refreshSize();
    }, wait, true);
  }

  private async refreshSize(): Promise<void> {
    this.sizeRefreshedAt = this.clock.monoMs();
    try {
      const total = await this.db.diskBytes();
      this.sizeBytes = total;
      if (this.db.isOpen) {
        const live = await this.db.approximateSize(Buffer.alloc(0), Buffer.from([0xff]));
        this.sizeInUseBytes = Math.min(total, live || total);
      }
    } catch {
      // size is advisory; a file vanishing during compaction is not an error
    }
  }

  /** True once close() started: background work (compaction, watch catch-up) stops quietly. */
  isClosed(): boolean {
    return this.closed || this.closing;
  }

  /** LevelDB compaction of the whole key space (Maintenance.Defragment). */
  async defragment(): Promise<void> {
    await this.commit();
    failpoint('defragBeforeCompact');
    await this.db.compactRange(Buffer.alloc(0), Buffer.from([0xff, 0xff, 0xff, 0xff]));
    failpoint('defragAfterCompact');
    await this.refreshSize();
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.closed) return;
    if (!this.fatal) await this.commit();
    this.closed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (this.sizeTimer) this.clock.clearTimeout(this.sizeTimer);
    await this.db.close();
  }
}
