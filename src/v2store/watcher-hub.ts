/*
 * Watchers and their hub. A watcher waits at one internal path; the hub hands each new event to the
 * watchers at every path segment of the event's key (and, for a removal, at every removed path).
 * Delivery never blocks the writer: each watcher has a queue of at most WATCHER_QUEUE_LIMIT events
 * and is removed (its consumer sees the end) when it overflows. A non-stream watcher is removed after
 * its first event.
 */
import type { V2Event } from './event.js';
import { EventHistory } from './event-history.js';

export const WATCHER_QUEUE_LIMIT = 100;

export class V2Watcher {
  private queue: V2Event[] = [];
  private waiting: ((e: V2Event | undefined) => void) | undefined;
  private listener: ((e: V2Event | undefined) => void) | undefined;
  removed = false;
  /** Called by the hub to unlink this watcher; undefined once unlinked. */
  unlink: (() => void) | undefined;

  constructor(
    readonly path: string,
    readonly recursive: boolean,
    readonly stream: boolean,
    /** Events at or after this index are delivered. */
    readonly sinceIndex: number,
    /** The store index when the watch began (etcd's X-Etcd-Index for a watch response). */
    readonly startIndex: number,
  ) {}

  /** The next event; undefined once the watcher is removed and its queue drained. */
  next(): Promise<V2Event | undefined> {
    const e = this.queue.shift();
    if (e !== undefined) return Promise.resolve(e);
    if (this.removed) return Promise.resolve(undefined);
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  /** Push-style consumption: queued events are delivered at once; undefined marks the end. */
  setListener(fn: (e: V2Event | undefined) => void): void {
    this.listener = fn;
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) fn(e);
    if (this.removed) fn(undefined);
  }

  /** Stops watching (idempotent); a pending next() resolves with undefined. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.unlink?.();
    this.unlink = undefined;
    this.wake(undefined);
  }

  /** Hub side: queue an event, or remove this watcher when its queue is full. */
  deliver(e: V2Event): void {
    if (this.removed) return;
    if (this.listener !== undefined || this.waiting !== undefined) { this.wake(e); return; }
    if (this.queue.length >= WATCHER_QUEUE_LIMIT) { this.remove(); return; }
    this.queue.push(e);
  }

  private wake(e: V2Event | undefined): void {
    if (this.listener !== undefined) { this.listener(e); return; }
    const w = this.waiting;
    this.waiting = undefined;
    w?.(e);
  }
}

/** Is `keyPath` hidden from a watcher at `watchPath` (a "_" segment below the watched path)? */
function isHiddenBelow(watchPath: string, keyPath: string): boolean {
  if (keyPath.length <= watchPath.length) return false;
  const rest = watchPath === '/' ? keyPath : keyPath.slice(watchPath.length);
  return rest.includes('/_');
}

export class WatcherHub {
  private byPath = new Map<string, Set<V2Watcher>>();
  private count = 0;

  constructor(public history: EventHistory) {}

  watcherCount(): number {
    return this.count;
  }

  /** Registers a watcher (after the caller found nothing in the history). */
  add(w: V2Watcher): void {
    let set = this.byPath.get(w.path);
    if (set === undefined) { set = new Set(); this.byPath.set(w.path, set); }
    set.add(w);
    this.count++;
    const owner = set;
    w.unlink = () => {
      if (!owner.delete(w)) return;
      this.count--;
      if (owner.size === 0 && this.byPath.get(w.path) === owner) this.byPath.delete(w.path);
    };
  }

  /** Records the event in the history and tells the watchers at each segment of its path. */
  notify(e: V2Event): void {
    this.history.add(e);
    let curr = '/';
    this.notifyAt(e, curr, false);
    for (const seg of e.path.split('/')) {
      if (seg === '') continue;
      curr = curr === '/' ? `/${seg}` : `${curr}/${seg}`;
      this.notifyAt(e, curr, false);
    }
  }

  /** Tells the watchers at `path` (`removed`: the node at `path` went away with this event). */
  notifyAt(e: V2Event, path: string, removed: boolean): void {
    const set = this.byPath.get(path);
    if (set === undefined) return;
    const original = e.path === path;
    for (const w of [...set]) {
      if (!original && isHiddenBelow(path, e.path)) continue;
      if (!(w.recursive || original || removed) || e.index() < w.sinceIndex) continue;
      w.deliver(e);
      if (!w.stream) w.remove();
    }
  }
}
