// Watchable store. Watchers are synced (get events as write txns end), unsynced (catch up from the
// backend's revision history in rounds, at most syncReadLimit revision keys per round, never cutting
// a revision), or victims (their stream's queue was full: they hold one pending response, are retried
// when the consumer takes from the stream, and then catch up again; no event is ever dropped and writers
// never wait). A watcher whose next revision is compacted gets one response with compactRevision and
// is removed. All events of one revision go out in one response.
import { Bucket } from '../backend/index.js';
import { MvccError } from './errors.js';
import { decodeKv } from './kv-codec.js';
import { toSpan } from './key-index.js';
import { kvAt } from './range.js';
import { bytesToRev, revToBytes } from './revision.js';
import type { StoreCore } from './store-core.js';
import type { Event, KeyValue } from './types.js';
import { Watcher, withoutPrev, type WatchResponse } from './watcher.js';
import { mark, Stage, TRACE_PUT } from '../pkg/put-trace.js';

export type { WatchResponse } from './watcher.js';

/** Responses buffered per stream before its watchers become victims. */
export const watchStreamQueueLimit = 128;
/** Revision keys read from the backend per catch-up round. */
export const syncReadLimit = 10_000;

export interface WatchRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  /** 0/undefined = from the next revision. */
  startRevision?: number;
  prevKv?: boolean;
  filters?: ('NOPUT' | 'NODELETE')[];
  /** The watcher's id (undefined = the stream picks one); MvccError watch-id-exists if in use. The API
   * layer resolves etcd's "0 = server picks" and passes the id it chose, 0 included. */
  id?: number;
}

/** A live event's prev_kv, read when the write made it. */
const prevKvOf = (ev: Event): KeyValue | undefined => ev.prevKv;

export class WatchHub {
  private readonly keyWatchers = new Map<string, Set<Watcher>>();
  private readonly rangeWatchers = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private syncing = false;
  /** The catch-up round in flight (resolved when none is). */
  private syncRound: Promise<void> = Promise.resolve();
  /** While the store is restored: no catch-up round starts (they read the backend being replaced). */
  private paused = false;
  /** Open streams, and events handed to streams so far (etcd's watch_stream_total, events_total). */
  readonly streams = new Set<WatchStream>();
  eventsSent = 0;

  constructor(private readonly store: StoreCore) {
    store.listeners.push((events, rev) => this.notify(events, rev));
  }

  newStream(): WatchStream {
    const stream = new WatchStream(this);
    this.streams.add(stream);
    return stream;
  }

  /** Counts for /metrics: watchers, unsynced (slow) watchers, events held for victim watchers. */
  stats(): { watchers: number; slowWatchers: number; pendingEvents: number } {
    let watchers = 0;
    let pendingEvents = 0;
    for (const s of this.streams) {
      watchers += s.watchers.size;
      for (const v of s.victims) pendingEvents += v.pending?.events.length ?? 0;
    }
    return { watchers, slowWatchers: this.unsynced.size, pendingEvents };
  }

  closed(stream: WatchStream): void {
    this.streams.delete(stream);
  }

  add(w: Watcher, startRev: number): void {
    // etcd: a negative start revision makes an unsynced watcher; below the compact revision (-1
    // before any compaction) it is canceled as compacted (compact_revision -1 included), else its
    // history read (from the revision's bytes, 0xff…) finds nothing and it starts now
    if (startRev < 0 && startRev >= this.store.compactRev) startRev = 0;
    if (startRev === 0 || startRev > this.store.currentRev) {
      w.minRev = startRev === 0 ? this.store.currentRev + 1 : startRev;
      this.toSynced(w);
    } else {
      w.minRev = startRev;
      this.toUnsynced(w);
    }
  }

  remove(w: Watcher): void {
    if (w.state === 'synced') this.unindex(w);
    this.unsynced.delete(w);
    w.stream.victims.delete(w);
    w.state = 'done';
    w.pending = null;
  }

  private toSynced(w: Watcher): void {
    w.state = 'synced';
    if (w.span.end === undefined) {
      let set = this.keyWatchers.get(w.span.key);
      if (!set) this.keyWatchers.set(w.span.key, (set = new Set()));
      set.add(w);
    } else this.rangeWatchers.add(w);
    w.stream.synced();
  }

  /** The store's current revision (a progress notification's). */
  rev(): number {
    return this.store.currentRev;
  }

  /**
   * While the store is being restored (KvStore.restore, between pause and resume) its revision is
   * rebuilt from 1 upwards and its watchers still look synced: no progress notification may go then.
   */
  restoring(): boolean {
    return this.paused;
  }

  private unindex(w: Watcher): void {
    if (w.span.end === undefined) {
      const set = this.keyWatchers.get(w.span.key);
      set?.delete(w);
      if (set?.size === 0) this.keyWatchers.delete(w.span.key);
    } else this.rangeWatchers.delete(w);
  }

  private toUnsynced(w: Watcher): void {
    w.state = 'unsynced';
    this.unsynced.add(w);
    this.scheduleSync();
  }

  private toVictim(w: Watcher, resp: WatchResponse): void {
    if (w.state === 'synced') this.unindex(w);
    this.unsynced.delete(w);
    w.state = 'victim';
    w.pending = resp;
    w.stream.victims.add(w);
  }

  /** Retry a stream's victims once its consumer made room. */
  retryVictims(stream: WatchStream): void {
    // Only the victims are visited (for speed: this runs each time the consumer takes a response).
    for (const w of stream.victims) {
      if (w.state !== 'victim' || !w.pending) {
        stream.victims.delete(w);
        continue;
      }
      if (!stream.tryPush(w.pending)) return;
      stream.victims.delete(w);
      const final = w.pending.compactRevision !== undefined;
      w.pending = null;
      if (final) stream.retire(w.id);
      else if (w.minRev <= this.store.currentRev) this.toUnsynced(w);
      else this.toSynced(w);
    }
  }

  private notify(events: Event[], rev: number): void {
    if (this.keyWatchers.size === 0 && this.rangeWatchers.size === 0) return;
    const keys = events.map((ev) => ev.kv.key.toString('latin1'));
    const plain = withoutPrev(events);
    if (keys.length === 1 && this.rangeWatchers.size === 0) {
      // one key's watchers, visited in place (a watcher made a victim leaves the set: Set iteration allows it)
      const set = this.keyWatchers.get(keys[0]!);
      if (set) for (const w of set) this.notifyOne(w, events, keys, plain, rev);
      return;
    }
    const targets = new Set<Watcher>();
    for (const k of keys) {
      const set = this.keyWatchers.get(k);
      if (set) for (const w of set) targets.add(w);
    }
    for (const w of this.rangeWatchers) targets.add(w);
    for (const w of targets) this.notifyOne(w, events, keys, plain, rev);
  }

  private notifyOne(w: Watcher, events: Event[], keys: string[], plain: Event[], rev: number): void {
    if (TRACE_PUT) mark(Stage.watchNotify);
    if (w.minRev > rev) return;
    const evs = w.select(events, keys, plain, prevKvOf);
    w.minRev = rev + 1;
    if (evs.length === 0) return;
    const resp: WatchResponse = { watchId: w.id, events: evs, revision: rev };
    if (!w.stream.tryPush(resp)) this.toVictim(w, resp);
  }

  /** Waits for the catch-up round in flight, and starts none until resume() (KvStore.restore). */
  async pause(): Promise<void> {
    this.paused = true;
    await this.syncRound;
  }

  /**
   * After a restore (etcd's watchableStore.Restore): every synced watcher becomes unsynced and catches
   * up from the new state (or is canceled as compacted); catch-up resumes.
   */
  resume(): void {
    this.paused = false;
    for (const set of this.keyWatchers.values()) for (const w of set) this.unsynced.add(w);
    for (const w of this.rangeWatchers) this.unsynced.add(w);
    for (const w of this.unsynced) w.state = 'unsynced';
    this.keyWatchers.clear();
    this.rangeWatchers.clear();
    if (this.unsynced.size > 0) this.scheduleSync();
  }

  private scheduleSync(): void {
    if (this.syncing || this.paused) return;
    this.syncing = true;
    this.syncRound = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.syncLoop())
      .catch((err: unknown) => {
        if (this.store.backend.isClosed()) return this.unsynced.clear();
        throw err; // a broken invariant: crash loudly
      })
      .finally(() => {
        this.syncing = false;
        if (this.unsynced.size > 0 && !this.store.backend.isClosed()) this.scheduleSync();
      });
  }

  private async syncLoop(): Promise<void> {
    while (this.unsynced.size > 0 && !this.paused) {
      const curRev = this.store.currentRev;
      const compactRev = this.store.compactRev;
      let minRev = Infinity;
      for (const w of [...this.unsynced]) {
        if (w.minRev < compactRev) {
          // revision 0, as etcd's syncWatchers sends it: the canceled response's header has no revision
          const resp: WatchResponse = { watchId: w.id, events: [], revision: 0, compactRevision: compactRev };
          if (w.stream.tryPush(resp)) w.stream.retire(w.id);
          else this.toVictim(w, resp);
        } else if (w.minRev > curRev) {
          this.unsynced.delete(w);
          this.toSynced(w);
        } else minRev = Math.min(minRev, w.minRev);
      }
      if (minRev === Infinity) return;
      const { events, lastRev } = await this.readHistory(minRev, curRev);
      this.deliverHistory(events, minRev, lastRev, curRev);
    }
  }

  /** Events with minRev <= rev <= curRev, stopping after syncReadLimit keys at a revision boundary. */
  private async readHistory(minRev: number, curRev: number): Promise<{ events: Event[]; lastRev: number }> {
    const events: Event[] = [];
    let lastRev = curRev;
    for await (const [k, v] of this.store.backend.iterate(Bucket.key, revToBytes(minRev, 0), revToBytes(curRev + 1, 0))) {
      const r = bytesToRev(k);
      if (events.length >= syncReadLimit && r.main !== events[events.length - 1]!.kv.modRevision) {
        lastRev = r.main - 1;
        break;
      }
      const kv = decodeKv(v);
      if (r.tombstone) events.push({ type: 'DELETE', kv: { ...kv, modRevision: r.main } });
      else events.push({ type: 'PUT', kv });
    }
    return { events, lastRev };
  }

  /**
   * Hands the history read from [firstRev, lastRev] to the unsynced watchers it covers. A watcher
   * that became unsynced during the read (a retried victim) and needs revisions before firstRev is
   * left for the next round: giving it this history would skip those revisions for good.
   */
  private deliverHistory(events: Event[], firstRev: number, lastRev: number, curRev: number): void {
    const view = { index: this.store.index, backend: this.store.backend, viewRev: this.store.currentRev, compactRev: this.store.compactRev };
    const prevOf = (ev: Event): KeyValue | undefined => {
      const at = ev.kv.modRevision - 1;
      if (at < this.store.compactRev) return undefined;
      const ki = this.store.index.get(ev.kv.key.toString('latin1'));
      return (ki && kvAt(view, ki, at)) ?? undefined;
    };
    const inRange = events.filter((e) => e.kv.modRevision <= lastRev);
    const keys = inRange.map((e) => e.kv.key.toString('latin1'));
    for (const w of [...this.unsynced]) {
      if (w.minRev > lastRev || w.minRev < firstRev) continue;
      const evs = w.select(inRange, keys, inRange, prevOf);
      w.minRev = lastRev + 1;
      if (evs.length > 0) {
        const resp: WatchResponse = { watchId: w.id, events: evs, revision: curRev };
        if (!w.stream.tryPush(resp)) {
          this.toVictim(w, resp);
          continue;
        }
      }
      if (w.minRev > this.store.currentRev) {
        this.unsynced.delete(w);
        this.toSynced(w);
      }
    }
  }
}

/**
 * One client watch stream: many watchers, one bounded queue of responses. Consume with next() or
 * `for await`; taking a response makes room and retries this stream's victims.
 */
export class WatchStream {
  readonly watchers = new Map<number, Watcher>();
  /** This stream's victim watchers, in the order they became victims. */
  readonly victims = new Set<Watcher>();
  private readonly queue: WatchResponse[] = [];
  private waiter: ((r: WatchResponse | null) => void) | null = null;
  private nextId = 0;
  private closed = false;
  /** Ids of watchers retired by compaction, still taken (see retire). */
  private readonly compacted = new Set<number>();
  /** A progress notification was asked for and waits until every watcher of the stream is synced. */
  private progressPending = false;

  constructor(private readonly hub: WatchHub) {}

  watch(req: WatchRequest): number {
    if (this.closed) throw new Error('mvcc: watch stream closed');
    let id = req.id;
    if (id !== undefined && (this.watchers.has(id) || this.compacted.has(id))) throw new MvccError('watch-id-exists');
    if (id === undefined) {
      // the stream picks: ids are handed out from 0 upwards, skipping ids in use
      while (this.watchers.has(this.nextId) || this.compacted.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const filters = req.filters ?? [];
    const w = new Watcher(id, this, toSpan(req.key, req.rangeEnd), 0, !!req.prevKv, filters.includes('NOPUT'), filters.includes('NODELETE'));
    this.watchers.set(id, w);
    this.hub.add(w, req.startRevision ?? 0);
    return id;
  }

  /** Stop a watcher; false if no such id (a watcher canceled by compaction still has its id). */
  cancel(id: number): boolean {
    if (this.compacted.delete(id)) return true;
    return this.drop(id);
  }

  /**
   * A watcher canceled because its start revision was compacted leaves the store, but, as in etcd's
   * watchStream, its id stays taken until the client cancels it (then it gets a canceled response).
   */
  retire(id: number): void {
    if (this.drop(id)) this.compacted.add(id);
  }

  drop(id: number): boolean {
    const w = this.watchers.get(id);
    if (!w) return false;
    this.watchers.delete(id);
    this.hub.remove(w);
    return true;
  }

  /**
   * A progress notification for the whole stream (watchId -1, no events) at the store revision, as
   * etcd answers a WatchProgressRequest since its fix of issue 15220: queued behind every event
   * already queued, and only once every watcher of the stream is synced (deferred until then), so
   * that it never claims a revision whose events some watcher of the stream has not been sent yet
   * (etcd 3.4.23 answered at once with the store revision while a watcher was still catching up).
   */
  requestProgress(): void {
    this.progressPending = true;
    this.synced();
  }

  /**
   * The periodic progress notification of one watcher (etcd's watchableStore.progress): its id, no
   * events, the store revision; sent only when the watcher is synced (one that is catching up gets
   * events instead), so it too never passes an event not yet queued.
   */
  progress(id: number): void {
    const w = this.watchers.get(id);
    if (w?.state === 'synced' && !this.closed && !this.hub.restoring()) this.tryPush({ watchId: id, events: [], revision: this.hub.rev() });
  }

  synced(): void {
    // (during a restore it waits: resume() makes every watcher catch up, and their sync releases it)
    if (!this.progressPending || this.closed || this.hub.restoring()) return;
    for (const w of this.watchers.values()) if (w.state !== 'synced') return;
    if (this.tryPush({ watchId: -1, events: [], revision: this.hub.rev() })) this.progressPending = false;
  }

  /** Queue a response; false when the queue is full (the caller parks the watcher as a victim). */
  tryPush(resp: WatchResponse): boolean {
    if (this.closed) return true;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = null;
      this.hub.eventsSent += resp.events.length;
      wake(resp);
      return true;
    }
    if (this.queue.length >= watchStreamQueueLimit) return false;
    this.hub.eventsSent += resp.events.length;
    this.queue.push(resp);
    return true;
  }

  /**
   * A queued response without waiting, undefined when there is none (for speed: a consumer drains
   * the queue in one go instead of a promise per response). Like next(), it retries victims.
   */
  take(): WatchResponse | undefined {
    const r = this.queue.shift();
    if (r) {
      this.hub.retryVictims(this);
      this.synced();
      return r;
    }
    if (this.closed) return undefined;
    this.hub.retryVictims(this);
    return this.queue.shift();
  }

  /** The next response; null once the stream is closed. */
  next(): Promise<WatchResponse | null> {
    const r = this.queue.shift();
    if (r) {
      this.hub.retryVictims(this);
      this.synced();
      return Promise.resolve(r);
    }
    if (this.closed) return Promise.resolve(null);
    this.hub.retryVictims(this);
    const again = this.queue.shift();
    if (again) return Promise.resolve(again);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchResponse> {
    for (;;) {
      const r = await this.next();
      if (!r) return;
      yield r;
    }
  }

  pendingResponses(): number {
    return this.queue.length;
  }

  close(): void {
    if (this.closed) return;
    for (const id of [...this.watchers.keys()]) this.drop(id);
    this.closed = true;
    this.hub.closed(this);
    this.queue.length = 0;
    this.waiter?.(null);
    this.waiter = null;
  }
}
