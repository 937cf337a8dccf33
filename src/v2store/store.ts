/*
 * V2Store: the v2 tree, its index, TTLs, history and watchers (see index.ts for the contract).
 * Every successful write bumps the index by one and yields one event; errors carry the index as it was.
 */
import { V2Error, V2ErrorCode } from './errors.js';
import { V2Event } from './event.js';
import { EventHistory, HISTORY_LIMIT_DEFAULT } from './event-history.js';
import { MIN_EXPIRE_MS, type V2Action } from './json.js';
import { CLUSTER_PREFIX, KEYS_PREFIX, userKey, V2Node } from './node.js';
import { newStats, type V2StoreStats, type V2StatField } from './stats.js';
import { ensureDir, internalPath, joinPath, lookup, splitPath, uniqueName } from './tree.js';
import { encodeEtcdSnapshot } from './etcd-snapshot.js';
import { decodeSnapshot } from './snapshot.js';
import { TtlHeap } from './ttl-heap.js';
import { V2Watcher, WatcherHub } from './watcher-hub.js';

/** A point in time: ms since the epoch, or a Date. The store never reads a clock. */
export type V2Now = number | Date;

/** TTL of a write: ttlSeconds counts from `now`; expireAtMs is absolute and wins; neither = permanent. */
export interface V2TtlOptions { ttlSeconds?: number; expireAtMs?: number }
export interface V2SetOptions extends V2TtlOptions { value?: string; dir?: boolean; refresh?: boolean }
export interface V2CreateOptions extends V2TtlOptions { value?: string; dir?: boolean; unique?: boolean }
export interface V2UpdateOptions extends V2TtlOptions { value?: string; refresh?: boolean }
export interface V2GetOptions { recursive?: boolean; sorted?: boolean }
export interface V2DeleteOptions { dir?: boolean; recursive?: boolean }
export interface V2WatchOptions { recursive?: boolean; stream?: boolean; sinceIndex?: number }
export interface V2StoreOptions { historyLimit?: number }

export function toMs(now: V2Now): number {
  return typeof now === 'number' ? now : now.getTime();
}

function expireOf(o: V2TtlOptions, nowMs: number): number | undefined {
  if (o.expireAtMs !== undefined) return o.expireAtMs;
  return o.ttlSeconds === undefined ? undefined : nowMs + o.ttlSeconds * 1000;
}

interface CreateArgs { dir: boolean; value: string; unique: boolean; replace: boolean; expireMs?: number;
  nowMs: number; action: V2Action }

export class V2Store {
  root: V2Node;
  currentIndex = 0;
  stats: V2StoreStats = newStats();
  /** Watch requests so far (etcd's etcd_debugging_store_watch_requests_total). */
  watchRequests = 0;
  readonly hub: WatcherHub;
  protected ttlHeap = new TtlHeap();
  private readonly readonly = new Set(['/', CLUSTER_PREFIX, KEYS_PREFIX]);

  constructor(opts: V2StoreOptions = {}) {
    this.root = V2Store.emptyRoot();
    this.hub = new WatcherHub(new EventHistory(opts.historyLimit ?? HISTORY_LIMIT_DEFAULT));
  }

  static emptyRoot(): V2Node {
    const root = V2Node.dir('/', 0, undefined);
    for (const ns of [CLUSTER_PREFIX, KEYS_PREFIX]) root.children?.set(ns.slice(1), V2Node.dir(ns, 0, root));
    return root;
  }

  index(): number {
    return this.currentIndex;
  }

  get(key: string, opts: V2GetOptions, now: V2Now): V2Event {
    return this.getAt(internalPath(key), opts, now);
  }

  set(key: string, opts: V2SetOptions, now: V2Now): V2Event {
    return this.setAt(internalPath(key), opts, now);
  }

  create(key: string, opts: V2CreateOptions, now: V2Now): V2Event {
    return this.createAt(internalPath(key), opts, now);
  }

  update(key: string, opts: V2UpdateOptions, now: V2Now): V2Event {
    return this.updateAt(internalPath(key), opts, now);
  }

  /** prevValue "" or undefined and prevIndex 0 or undefined are not compared (etcd). */
  compareAndSwap(key: string, prevValue: string | undefined, prevIndex: number | bigint | undefined,
    opts: V2UpdateOptions, now: V2Now): V2Event {
    return this.compareAndSwapAt(internalPath(key), prevValue, prevIndex, opts, now);
  }

  delete(key: string, opts: V2DeleteOptions, now: V2Now): V2Event {
    return this.deleteAt(internalPath(key), opts, now);
  }

  compareAndDelete(key: string, prevValue: string | undefined, prevIndex: number | bigint | undefined,
    now: V2Now): V2Event {
    return this.compareAndDeleteAt(internalPath(key), prevValue, prevIndex, now);
  }

  // ---- the same operations on cleaned internal paths ("/1/foo", "/2/users/root"), counted in the
  // stats as etcd's store counts them: the applier uses these for any request path (etcd's v2 auth
  // writes its users, roles and switch under /2 as plain v2 requests) ----

  getAt(path: string, opts: V2GetOptions, now: V2Now): V2Event {
    return this.counted('gets', () => this.getPath(path, opts, toMs(now)));
  }

  setAt(path: string, opts: V2SetOptions, now: V2Now): V2Event {
    return this.counted('sets', () => this.setPath(path, opts, toMs(now)));
  }

  createAt(path: string, opts: V2CreateOptions, now: V2Now): V2Event {
    return this.counted('create', () => this.createPath(path, opts, toMs(now)));
  }

  updateAt(path: string, opts: V2UpdateOptions, now: V2Now): V2Event {
    // etcd counts a refused root (107) and a value on a directory (102) as updateSuccess: its Update
    // returns those errors without setting the variable its deferred counter reads (observed on 3.4.23)
    return this.counted('update', () => this.updatePath(path, opts, toMs(now)),
      [V2ErrorCode.RootROnly, V2ErrorCode.NotFile]);
  }

  compareAndSwapAt(path: string, prevValue: string | undefined, prevIndex: number | bigint | undefined,
    opts: V2UpdateOptions, now: V2Now): V2Event {
    // a refused root (107) counts as compareAndSwapSuccess, as in etcd (see updateAt)
    return this.counted('compareAndSwap',
      () => this.casPath(path, prevValue ?? '', prevIndex ?? 0, opts, toMs(now)), [V2ErrorCode.RootROnly]);
  }

  deleteAt(path: string, opts: V2DeleteOptions, now: V2Now): V2Event {
    if (this.readonly.has(path)) {
      // etcd refuses to delete "/" with 107 but counts it as deleteSuccess (its deferred counter
      // reads another error variable than the one returned): observed on 3.4.23.
      this.stats.deleteSuccess++;
      throw new V2Error(V2ErrorCode.RootROnly, '/', this.currentIndex);
    }
    return this.counted('delete', () => this.deletePath(path, opts, toMs(now)));
  }

  compareAndDeleteAt(path: string, prevValue: string | undefined, prevIndex: number | bigint | undefined,
    now: V2Now): V2Event {
    // etcd counts only a failed lookup as compareAndDeleteFail; 101 and 102 count as success (observed).
    try {
      lookup(this.root, path, this.currentIndex);
    } catch (err) {
      if (err instanceof V2Error) this.stats.compareAndDeleteFail++;
      throw err;
    }
    this.stats.compareAndDeleteSuccess++;
    return this.cadPath(path, prevValue ?? '', prevIndex ?? 0, toMs(now));
  }

  /**
   * etcd's v2 HTTP layer looks up /2/enabled (the v2 auth switch, written "true" or "false" by the
   * v2 auth endpoints) on every /v2/keys request, counted as one get in /v2/stats/store (getsFail
   * while v2 auth was never touched); call this once where etcd does. Returns whether v2 auth is on.
   */
  authEnabledProbe(): boolean {
    // On every v2 request: a direct walk instead of a get that throws (an Error per request cost
    // ~20 µs, a fifth of a v2 GET); counted exactly as that get would be.
    const enabled = this.root.children?.get('2')?.children?.get('enabled');
    if (enabled === undefined) {
      this.stats.getsFail++;
      return false;
    }
    this.stats.getsSuccess++;
    return enabled.value === 'true';
  }

  /**
   * etcd validates a membership change by reading the member list and the removed-member list from
   * the store (membersFromStore): two gets counted in the stats (the second fails while no member was
   * ever removed). Called where etcd would validate a change of an unknown member.
   */
  membershipReadProbe(): void {
    for (const p of [`${CLUSTER_PREFIX}/members`, `${CLUSTER_PREFIX}/removed_members`]) {
      try {
        this.counted('gets', () => this.getPath(p, { recursive: true, sorted: true }, 0));
      } catch (err) {
        if (!(err instanceof V2Error)) throw err;
      }
    }
  }

  /** Whether any node carries a TTL: the leader proposes SYNC entries only then (as etcd does). */
  hasTtlKeys(): boolean {
    return this.ttlHeap.size() > 0;
  }

  /** Applied for a SYNC entry: removes every node expiring at or before `now`, one expire event each. */
  deleteExpiredKeys(now: V2Now): void {
    const nowMs = toMs(now);
    for (let n = this.ttlHeap.top(); n !== undefined && (n.expireMs as number) <= nowMs; n = this.ttlHeap.top()) {
      const index = this.currentIndex + 1;
      const e = new V2Event('expire', this.removedNode(n, index), n.repr(false, false, nowMs), index, n.path);
      this.currentIndex = index;
      this.removeNode(n, e);
      this.stats.expireCount++;
      this.hub.notify(e);
    }
  }

  /** Watches a user key. Throws 401 when sinceIndex is older than the history. */
  watch(key: string, opts: V2WatchOptions): V2Watcher {
    this.watchRequests++;
    return this.watchPath(internalPath(key), opts);
  }

  watchPath(path: string, opts: V2WatchOptions): V2Watcher {
    const since = opts.sinceIndex ? opts.sinceIndex : this.currentIndex + 1;
    const recursive = opts.recursive ?? false;
    const found = this.hub.history.scan(path, recursive, since, this.currentIndex);
    const w = new V2Watcher(path, recursive, opts.stream ?? false, since, this.currentIndex);
    if (found !== undefined) {
      // etcd answers from history with that one event and does not register the watcher, even for a stream.
      // (A stream watcher answered from history then stays open and silent until removed, as in etcd.)
      w.deliver(found.withEtcdIndex(this.currentIndex));
      if (!w.stream) w.remove();
      return w;
    }
    this.hub.add(w);
    return w;
  }

  /** The whole store (tree, index, history, counters) for a raft snapshot, as etcd 3.4 writes it. */
  save(): Buffer {
    return encodeEtcdSnapshot(this.currentIndex, this.stats, this.root, this.hub.history.events(),
      this.hub.history.capacity);
  }

  /** Replaces the state with a snapshot's (etcd's JSON or our older format); live watchers stay registered. */
  restore(data: Uint8Array): void {
    const snap = decodeSnapshot(data);
    this.root = snap.root;
    this.currentIndex = snap.index;
    this.stats = snap.stats;
    this.ttlHeap = new TtlHeap();
    for (const n of snap.ttlNodes) this.ttlHeap.push(n);
    const history = new EventHistory(this.hub.history.capacity);
    for (const e of snap.history) history.add(e);
    this.hub.history = history;
  }

  static recover(data: Uint8Array, opts: V2StoreOptions = {}): V2Store {
    const s = new V2Store(opts);
    s.restore(data);
    return s;
  }

  /** /v2/stats/store body fields, in etcd's order. */
  statsJson(): V2StoreStats {
    return { ...this.stats, watchers: this.hub.watcherCount() };
  }

  // ---- operations on internal paths (the membership mirror uses these for /0) ----

  getPath(path: string, opts: V2GetOptions, nowMs: number): V2Event {
    const n = lookup(this.root, path, this.currentIndex);
    const node = n.load(opts.recursive ?? false, opts.sorted ?? false, nowMs);
    return new V2Event('get', node, undefined, this.currentIndex, path);
  }

  setPath(path: string, opts: V2SetOptions, nowMs: number): V2Event {
    let value = opts.value ?? '';
    if (opts.refresh) value = lookup(this.root, path, this.currentIndex).value;
    const e = this.createNode(path, { dir: opts.dir ?? false, value, unique: false, replace: true,
      expireMs: expireOf(opts, nowMs), nowMs, action: 'set' });
    return this.finish(e, opts.refresh ?? false);
  }

  createPath(path: string, opts: V2CreateOptions, nowMs: number): V2Event {
    const e = this.createNode(path, { dir: opts.dir ?? false, value: opts.value ?? '',
      unique: opts.unique ?? false, replace: false, expireMs: expireOf(opts, nowMs), nowMs, action: 'create' });
    return this.finish(e, false);
  }

  updatePath(path: string, opts: V2UpdateOptions, nowMs: number): V2Event {
    this.checkWritable(path);
    const n = lookup(this.root, path, this.currentIndex);
    let value = opts.value ?? '';
    if (n.isDir() && value.length !== 0) throw new V2Error(V2ErrorCode.NotFile, userKey(path), this.currentIndex);
    if (opts.refresh) value = n.value;
    const index = this.currentIndex + 1;
    const prev = n.repr(false, false, nowMs);
    // etcd leaves a directory's modifiedIndex as it was (only the event shows the new index).
    if (!n.isDir()) { n.value = value; n.modifiedIndex = index; }
    this.setExpire(n, expireOf(opts, nowMs));
    const e = new V2Event('update', this.writtenNode(n, index, nowMs), prev, index, path);
    this.currentIndex = index;
    return this.finish(e, opts.refresh ?? false);
  }

  casPath(path: string, prevValue: string, prevIndex: number | bigint, opts: V2UpdateOptions, nowMs: number): V2Event {
    this.checkWritable(path);
    const n = lookup(this.root, path, this.currentIndex);
    if (n.isDir()) throw new V2Error(V2ErrorCode.NotFile, userKey(path), this.currentIndex);
    this.compare(n, prevValue, prevIndex);
    const value = opts.refresh ? n.value : opts.value ?? '';
    const index = this.currentIndex + 1;
    const prev = n.repr(false, false, nowMs);
    n.value = value;
    n.modifiedIndex = index;
    this.setExpire(n, expireOf(opts, nowMs));
    const e = new V2Event('compareAndSwap', this.writtenNode(n, index, nowMs), prev, index, path);
    this.currentIndex = index;
    return this.finish(e, opts.refresh ?? false);
  }

  deletePath(path: string, opts: V2DeleteOptions, nowMs: number): V2Event {
    this.checkWritable(path);
    const recursive = opts.recursive ?? false;
    const dir = recursive || (opts.dir ?? false);
    const n = lookup(this.root, path, this.currentIndex);
    if (n.isDir()) {
      if (!dir) throw new V2Error(V2ErrorCode.NotFile, userKey(path), this.currentIndex);
      if ((n.children?.size ?? 0) > 0 && !recursive) {
        throw new V2Error(V2ErrorCode.DirNotEmpty, userKey(path), this.currentIndex);
      }
    }
    return this.removeWithEvent(n, 'delete', nowMs);
  }

  cadPath(path: string, prevValue: string, prevIndex: number | bigint, nowMs: number): V2Event {
    const n = lookup(this.root, path, this.currentIndex);
    if (n.isDir()) throw new V2Error(V2ErrorCode.NotFile, userKey(path), this.currentIndex);
    this.compare(n, prevValue, prevIndex);
    return this.removeWithEvent(n, 'compareAndDelete', nowMs);
  }

  // ---- helpers ----

  /**
   * Runs an operation, counting its success or V2Error failure under `op` (used by the /0 mirror too);
   * errors with a code in `countedAsSuccess` count as a success (etcd's quirks, see update).
   */
  counted(op: V2StatField, fn: () => V2Event, countedAsSuccess: readonly number[] = []): V2Event {
    try {
      const e = fn();
      this.stats[`${op}Success` as keyof V2StoreStats]++;
      return e;
    } catch (err) {
      if (err instanceof V2Error) this.stats[`${op}${countedAsSuccess.includes(err.errorCode) ? 'Success' : 'Fail'}` as keyof V2StoreStats]++;
      throw err;
    }
  }

  private checkWritable(path: string): void {
    if (this.readonly.has(path)) throw new V2Error(V2ErrorCode.RootROnly, '/', this.currentIndex);
  }

  /** prevIndex: a bigint only above 2^53 - 1 (a client's uint64), which no index reaches. */
  private compare(n: V2Node, prevValue: string, prevIndex: number | bigint): void {
    const valueOk = prevValue === '' || n.value === prevValue;
    const indexOk = prevIndex === 0 || n.modifiedIndex === prevIndex;
    if (valueOk && indexOk) return;
    const causes: string[] = [];
    if (!valueOk) causes.push(`[${prevValue} != ${n.value}]`);
    if (!indexOk) causes.push(`[${prevIndex} != ${n.modifiedIndex}]`);
    throw new V2Error(V2ErrorCode.TestFailed, causes.join(' '), this.currentIndex);
  }

  private createNode(path0: string, a: CreateArgs): V2Event {
    const index = this.currentIndex + 1;
    // etcd's internalCreate: an expiration before 2000 is none (an update or CAS keeps it and expires)
    const expireMs = a.expireMs !== undefined && a.expireMs < MIN_EXPIRE_MS ? undefined : a.expireMs;
    const path = a.unique ? joinPath(path0, uniqueName(index)) : path0;
    this.checkWritable(path);
    const { dir, name } = splitPath(path);
    const parent = this.walkToParent(dir, index, a.action);
    const old = parent.children?.get(name);
    let prev;
    if (old !== undefined) {
      if (!a.replace) throw new V2Error(V2ErrorCode.NodeExist, userKey(path), this.currentIndex);
      if (old.isDir()) throw new V2Error(V2ErrorCode.NotFile, userKey(path), this.currentIndex);
      prev = old.repr(false, false, a.nowMs);
      this.detach(old);
    }
    const n = a.dir ? V2Node.dir(path, index, parent) : V2Node.file(path, a.value, index, parent);
    parent.children?.set(name, n);
    this.setExpire(n, expireMs);
    this.currentIndex = index;
    return new V2Event(a.action, this.writtenNode(n, index, a.nowMs), prev, index, path);
  }

  /**
   * The parent directory of a set or create, made on the way. A file on the way (104) of a create
   * counts one setsFail besides its createFail, as etcd's internalCreate does (etcd's Set meets that
   * file in the lookup of the previous node first, so a set counts only its own setsFail).
   */
  private walkToParent(dir: string, index: number, action: V2Action): V2Node {
    try {
      return ensureDir(this.root, dir, index, this.currentIndex);
    } catch (err) {
      if (err instanceof V2Error && action === 'create') this.stats.setsFail++;
      throw err;
    }
  }

  /** The node of a write event: value (files) or dir, expiration/ttl, the write's index. */
  private writtenNode(n: V2Node, index: number, nowMs: number): V2Event['node'] {
    const out: V2Event['node'] = { key: userKey(n.path) };
    if (n.isDir()) out.dir = true;
    else out.value = n.value;
    Object.assign(out, n.expirationAndTtl(nowMs));
    out.modifiedIndex = index;
    out.createdIndex = n.createdIndex;
    return out;
  }

  /** The node of a removal event: key, dir, the removal's index, createdIndex. */
  private removedNode(n: V2Node, index: number): V2Event['node'] {
    const out: V2Event['node'] = { key: userKey(n.path) };
    if (n.isDir()) out.dir = true;
    out.modifiedIndex = index;
    out.createdIndex = n.createdIndex;
    return out;
  }

  private removeWithEvent(n: V2Node, action: V2Action, nowMs: number): V2Event {
    const index = this.currentIndex + 1;
    const e = new V2Event(action, this.removedNode(n, index), n.repr(false, false, nowMs), index, n.path);
    this.currentIndex = index;
    this.removeNode(n, e);
    this.hub.notify(e);
    return e;
  }

  /** Unlinks a subtree, telling the watchers at every removed path (etcd notifies those before the walk). */
  private removeNode(n: V2Node, e: V2Event): void {
    n.forEachPostOrder((x) => {
      this.ttlHeap.remove(x);
      this.hub.notifyAt(e, x.path, true);
    });
    n.parent?.children?.delete(n.name());
  }

  /** Unlinks a subtree silently (a set replacing a file). */
  private detach(n: V2Node): void {
    n.forEachPostOrder((x) => this.ttlHeap.remove(x));
    n.parent?.children?.delete(n.name());
  }

  private setExpire(n: V2Node, expireMs: number | undefined): void {
    n.expireMs = expireMs;
    if (expireMs === undefined) this.ttlHeap.remove(n);
    else if (n.heapIndex === -1) this.ttlHeap.push(n);
    else this.ttlHeap.update(n);
  }

  private finish(e: V2Event, refresh: boolean): V2Event {
    if (refresh) {
      e.refresh = true;
      this.hub.history.add(e);
    } else {
      this.hub.notify(e);
    }
    return e;
  }
}
