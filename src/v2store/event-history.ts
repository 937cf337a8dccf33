/*
 * The last `capacity` events (etcd: 1000, across all keys), oldest first. A watch with waitIndex is
 * answered from here: below startIndex it is error 401 ("the requested history has been cleared
 * [start/asked]"); within the window the first matching event at or after it is returned at once.
 */
import { V2Error, V2ErrorCode } from './errors.js';
import type { V2Event } from './event.js';

export const HISTORY_LIMIT_DEFAULT = 1000;

export class EventHistory {
  private ring: (V2Event | undefined)[];
  private front = 0; // position of the oldest event
  private size = 0;
  startIndex = 0;
  lastIndex = 0;

  constructor(readonly capacity: number = HISTORY_LIMIT_DEFAULT) {
    if (!(capacity >= 1)) throw new Error(`v2store: history capacity must be >= 1, got ${capacity}`);
    this.ring = new Array<V2Event | undefined>(capacity);
  }

  add(e: V2Event): void {
    const back = (this.front + this.size) % this.capacity;
    this.ring[back] = e;
    if (this.size === this.capacity) this.front = (this.front + 1) % this.capacity;
    else this.size++;
    this.lastIndex = e.index();
    this.startIndex = this.at(0).index();
  }

  /** Oldest first. */
  events(): V2Event[] {
    const out: V2Event[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.at(i));
    return out;
  }

  /**
   * The first non-refresh event at or after `index` that a watcher on `path` would see, or undefined
   * when none has happened yet. Matching is etcd's: the key itself; anything under it when recursive;
   * and a removed directory whose path is a string prefix of the watched path.
   */
  scan(path: string, recursive: boolean, index: number, currentIndex: number): V2Event | undefined {
    if (index < this.startIndex) {
      throw new V2Error(V2ErrorCode.EventIndexCleared,
        `the requested history has been cleared [${this.startIndex}/${index}]`, currentIndex);
    }
    if (index > this.lastIndex) return undefined;
    const prefix = path.endsWith('/') ? path : `${path}/`;
    for (let i = 0; i < this.size; i++) {
      const e = this.at(i);
      if (e.refresh || e.index() < index) continue;
      let ok = e.path === path || (recursive && e.path.startsWith(prefix));
      if (!ok && (e.action === 'delete' || e.action === 'expire') && e.prevNode?.dir) ok = path.startsWith(e.path);
      if (ok) return e;
    }
    return undefined;
  }

  private at(i: number): V2Event {
    const e = this.ring[(this.front + i) % this.capacity];
    if (e === undefined) throw new Error('v2store: event history hole');
    return e;
  }
}
