/*
 * One client watch stream: an MVCC watch stream whose responses are converted to the wire shape and
 * handed to the API's sink. A congested sink (send() → false) keeps the batch here and is retried
 * after WATCH_RETRY_MS, as etcd retries its victim watchers; the MVCC stream's own bounded queue then
 * fills and parks further watchers as victims, so writers are never blocked and no event is dropped.
 */
import type * as mvcc from '../mvcc/types.js';
import type { WatchResponse as MvccWatchResponse } from '../mvcc/index.js';
import type { Event as PbEvent } from '../pb/mvccpb/Event.js';
import type { WatchBatch, WatchSink, WatchStream, WatcherSpec } from './facade.js';
import type { EtcdServer } from './server.js';
import { eventToPb } from './v3-convert.js';

/** How long a congested stream waits before its held batch is offered again (etcd: 100 ms). */
export const WATCH_RETRY_MS = 100;

/**
 * The wire form of each MVCC event, by identity. The MVCC store hands the same event object to
 * every watcher that gets it, so it is converted once, and the API's encoder (which caches bytes
 * by pb event identity) encodes it once, however many watchers see it (for speed).
 */
const pbEvents = new WeakMap<mvcc.Event, PbEvent>();

function toPb(ev: mvcc.Event): PbEvent {
  let pb = pbEvents.get(ev);
  if (pb === undefined) {
    pb = eventToPb(ev);
    pbEvents.set(ev, pb);
  }
  return pb;
}

/** The same for the event lists, which the MVCC store shares too when watchers get all of a revision. */
const pbLists = new WeakMap<mvcc.Event[], PbEvent[]>();

/** The last list converted: the watchers of one revision follow one another. */
let lastList: mvcc.Event[] | undefined;
let lastPbList: PbEvent[] = [];

function toPbList(events: mvcc.Event[]): PbEvent[] {
  if (events === lastList) return lastPbList;
  let pb = pbLists.get(events);
  if (pb === undefined) {
    pb = events.map(toPb);
    pbLists.set(events, pb);
  }
  lastList = events;
  lastPbList = pb;
  return pb;
}

function toBatch(r: MvccWatchResponse): WatchBatch {
  return { watchId: r.watchId, events: toPbList(r.events), revision: r.revision, compactRevision: r.compactRevision ?? 0 };
}

/** etcd's minWatchProgressInterval, and its default --experimental-watch-progress-notify-interval. */
const MIN_PROGRESS_MS = 100;
const DEFAULT_PROGRESS_MS = 10 * 60_000;

export function openWatchStream(s: EtcdServer, sink: WatchSink): WatchStream {
  const ms = s.kv.watchStream();
  let closed = false;
  // progress_notify watchers: id → whether the last period passed without events for it (etcd's
  // sws.progress: a watcher that was sent events during a period gets no notification at its end)
  const quiet = new Map<number, boolean>();
  let ticker: NodeJS.Timeout | undefined;
  const tick = () => {
    for (const [id, q] of quiet) {
      if (q) ms.progress(id);
      quiet.set(id, true);
    }
  };
  const pump = async (): Promise<void> => {
    for (;;) {
      // Drain what is queued without a promise per response (for speed), then wait for more.
      const r = ms.take() ?? (await ms.next());
      if (r === null || closed) return;
      const batch = toBatch(r);
      if (r.events.length > 0 && quiet.has(r.watchId)) quiet.set(r.watchId, false);
      while (!closed && !sink.send(batch)) await new Promise((res) => setTimeout(res, WATCH_RETRY_MS));
      if (closed) return;
    }
  };
  pump().catch((err: unknown) => s.logger.error({ err: String(err) }, 'watch stream pump failed'));
  return {
    watch(spec: WatcherSpec): number {
      const filters: Array<'NOPUT' | 'NODELETE'> = [];
      if (spec.noPut) filters.push('NOPUT');
      if (spec.noDelete) filters.push('NODELETE');
      ms.watch({
        id: spec.watchId,
        key: spec.key,
        rangeEnd: spec.rangeEnd.length === 0 ? undefined : spec.rangeEnd,
        startRevision: spec.startRevision,
        prevKv: spec.prevKv,
        filters,
      });
      if (spec.progressNotify) {
        quiet.set(spec.watchId, true);
        if (!ticker) {
          ticker = setInterval(tick, Math.max(MIN_PROGRESS_MS, s.cfg.watchProgressNotifyIntervalMs ?? DEFAULT_PROGRESS_MS));
          ticker.unref();
        }
      }
      return s.kv.rev();
    },
    cancel: (watchId) => {
      quiet.delete(watchId);
      return ms.cancel(watchId);
    },
    requestProgress: () => ms.requestProgress(),
    revision: () => s.kv.rev(),
    close(): void {
      closed = true;
      clearInterval(ticker);
      ms.close();
    },
  };
}
