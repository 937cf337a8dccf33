// The watches of a robustness run: one per member on the workload's prefix with prev_kv, reopened
// after its stream breaks from the revision after its last event (or at the compacted revision when a
// compaction cancelled it), each stream a separate log; and the final watches from the start.
import { sleep, type Any, type Cluster } from './cluster.js';
import type { WatchEvent, WatchLog } from './history.js';

export interface WatchCtx {
  cluster: Cluster;
  watches: WatchLog[];
  now: () => number;
  stopped: () => boolean;
}

export const lastRev = (wl: WatchLog) => wl.responses.reduce((m, r) => Math.max(m, ...r.events.map((e) => e.modRev)), 0);
/** The revision a watch is known to have delivered everything up to: its last event or progress notification. */
export const heard = (wl: WatchLog) => wl.responses.reduce((m, r) => Math.max(m, r.progress ? r.revision : 0, ...r.events.map((e) => e.modRev)), 0);

const eventOf = (e: Any): WatchEvent => ({
  type: e.type, key: e.kv.key.toString(), value: e.kv.value.toString(), modRev: Number(e.kv.mod_revision),
  createRev: Number(e.kv.create_revision), version: Number(e.kv.version),
  ...(e.prev_kv && e.prev_kv.key?.length ? { prevKv: { value: e.prev_kv.value.toString(), modRev: Number(e.prev_kv.mod_revision), createRev: Number(e.prev_kv.create_revision), version: Number(e.prev_kv.version) } } : {}),
});

export interface WatchOpts {
  /** NOPUT / NODELETE */
  filters?: Array<'NOPUT' | 'NODELETE'>;
  /** send a WatchProgressRequest on the stream every this many ms (its answers are recorded) */
  progressEveryMs?: number;
  /** create the watch with progress_notify (the member's periodic notifications are recorded) */
  progressNotify?: boolean;
}

/** Open a watch on member i from startRevision; `done` resolves when it ends (stop, `until`, or a broken stream). */
export function openWatch(ctx: WatchCtx, i: number, startRevision: number, id: string, until?: () => boolean, wo: WatchOpts = {}): { log: WatchLog; done: Promise<void> } {
  const wl: WatchLog = { id, member: ctx.cluster.nodes[i]!.name, prefix: 'k', startRevision, prevKv: true, responses: [], complete: true, ...(wo.filters?.length ? { filters: wo.filters } : {}) };
  ctx.watches.push(wl);
  const stream = ctx.cluster.clients[i]!.watch.Watch();
  const done = new Promise<void>((resolve) => {
    let created = false;
    const progress = wo.progressEveryMs
      ? setInterval(() => {
          if (created) stream.write({ progress_request: {} });
        }, wo.progressEveryMs)
      : undefined;
    const finish = () => {
      clearInterval(timer);
      clearInterval(progress);
      stream.cancel();
      resolve();
    };
    const timer = setInterval(() => {
      if (ctx.stopped() || (until && until())) finish();
    }, 100);
    stream.on('data', (r: Any) => {
      const events = (r.events ?? []).map(eventOf);
      if (events.length || Number(r.compact_revision) || r.canceled) {
        wl.responses.push({ revision: Number(r.header?.revision ?? 0), events, at: ctx.now(), ...(Number(r.compact_revision) ? { compactRevision: Number(r.compact_revision) } : {}), ...(r.canceled ? { canceled: true } : {}) });
      } else if (r.created) {
        created = true;
        // at once, while the watch may still be catching up from its start revision: the notification
        // must wait for (or stay below) the events it has not delivered yet
        if (wo.progressEveryMs) stream.write({ progress_request: {} });
      }
      else wl.responses.push({ revision: Number(r.header?.revision ?? 0), events: [], at: ctx.now(), progress: true, ...(Number(r.watch_id) >= 0 ? { periodic: true } : {}) });
      // the stream's only watch was cancelled (by a compaction): the stream stays open in etcd, so
      // end it here, or the loop would wait on it until the member goes down
      if (r.canceled) finish();
    });
    stream.on('error', (e: Error) => {
      wl.error = e.message;
      wl.complete = false;
      finish();
    });
    stream.on('end', () => {
      wl.complete = false;
      finish();
    });
  });
  stream.write({ create_request: { key: Buffer.from('k'), range_end: Buffer.from('l'), start_revision: String(startRevision), prev_kv: true, filters: wo.filters ?? [], progress_notify: !!wo.progressNotify } });
  return { log: wl, done };
}

/**
 * A watch on member i for the whole run, reopened where it stopped whenever its stream breaks. With
 * `wo`, a second kind: filtered, and asking for progress every so often (its logs are m<i>p.<n>).
 */
export async function watchLoop(ctx: WatchCtx, i: number, wo?: WatchOpts): Promise<void> {
  let start = 1;
  let gen = 0;
  while (!ctx.stopped()) {
    const w = openWatch(ctx, i, start, `m${i}${wo ? 'p' : ''}.${gen++}`, undefined, wo);
    await w.done;
    start = Math.max(start, lastRev(w.log) + 1);
    // cancelled by a compaction: resume from the compacted revision (the oldest one still there)
    for (const r of w.log.responses) if (r.compactRevision) start = Math.max(start, r.compactRevision);
    if (!ctx.stopped()) await sleep(500);
  }
}
