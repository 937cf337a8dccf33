// One watcher of the watchable store (watchable.ts): its key span, the revision it waits for, its
// filters, and how it picks the events of a revision; the response it is sent.
import { spanContains, type KeySpan } from './key-index.js';
import type { Event, KeyValue } from './types.js';

/** What a watcher needs of its stream (WatchStream in watchable.ts). */
export interface WatcherStream {
  readonly victims: Set<Watcher>;
  tryPush(resp: WatchResponse): boolean;
  retire(id: number): void;
  /** One of the stream's watchers is synced now: a deferred progress notification may go. */
  synced(): void;
}

export interface WatchResponse {
  watchId: number;
  events: Event[];
  /** Header revision: the events' revision for live events, the store revision for catch-up. */
  revision: number;
  /** Set (with no events) when the watcher's start revision was compacted: it is removed. */
  compactRevision?: number;
}

export type WatcherState = 'synced' | 'unsynced' | 'victim' | 'done';

/** The events without their prevKv: the same object when it has none. */
export function withoutPrev(events: Event[]): Event[] {
  return events.map((ev) => (ev.prevKv === undefined ? ev : { type: ev.type, kv: ev.kv }));
}

export class Watcher {
  state: WatcherState = 'synced';
  pending: WatchResponse | null = null;
  constructor(
    readonly id: number,
    readonly stream: WatcherStream,
    readonly span: KeySpan,
    public minRev: number,
    readonly prevKv: boolean,
    readonly noPut: boolean,
    readonly noDelete: boolean,
  ) {}

  /**
   * keys[i] is events[i]'s key as a latin1 string and plain[i] the event without prevKv (both
   * computed once for all watchers). The event objects are shared by every watcher that gets the
   * same content, so the layers above can convert and encode each once (for speed: 10,000 watchers
   * of one key are 10,000 responses per put); nobody mutates them.
   */
  select(events: Event[], keys: string[], plain: Event[], withPrev: (ev: Event) => KeyValue | undefined): Event[] {
    // The whole shared list when the watcher takes all of it as it is (the common case); a list of
    // its own is made only from the first event that differs.
    const base = this.prevKv ? events : plain;
    let out: Event[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const picked = this.pick(events[i]!, keys[i]!, plain[i]!, withPrev);
      if (out === undefined) {
        if (picked === base[i]) continue;
        out = base.slice(0, i);
      }
      if (picked !== undefined) out.push(picked);
    }
    return out ?? base;
  }

  /** The event as this watcher gets it, undefined when it does not get it. */
  private pick(ev: Event, key: string, plain: Event, withPrev: (ev: Event) => KeyValue | undefined): Event | undefined {
    if (ev.kv.modRevision < this.minRev || !spanContains(this.span, key)) return undefined;
    if ((ev.type === 'PUT' && this.noPut) || (ev.type === 'DELETE' && this.noDelete)) return undefined;
    // etcd never reads a prev_kv for a create event (a PUT of version 1), even when the key had a
    // value at revision - 1 (deleted and put again in one txn)
    const isCreate = ev.type === 'PUT' && ev.kv.createRevision === ev.kv.modRevision;
    const prev = this.prevKv && !isCreate ? withPrev(ev) : undefined;
    if (prev === undefined) return plain;
    return prev === ev.prevKv ? ev : { type: ev.type, kv: ev.kv, prevKv: prev };
  }
}
