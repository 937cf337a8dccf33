// The watch case: W watchers on one key, spread over S streams, and one putter making --total puts at
// --put-rate. Each put's value starts with the hrtime (ns, int64 LE) at which it was sent, so a
// watcher in any worker thread measures put-to-event latency on the one process-wide clock without
// talking to the putter. After the putter is done, every watcher must have seen every put; missing
// events (after a grace period) are counted as lost.
import { call, closeConn, type Conn } from './proto.js';
import { openConns, type CaseRun } from './cases.js';
import { valueOf } from './keys.js';
import type { Recorder } from './recorder.js';
import type { WorkerTask } from './types.js';
import { WATCH_KEY, hrMs } from './types.js';

const CREATE_TIMEOUT_MS = 60_000; // hang guard: every watcher created
export const WATCH_GRACE_MS = 10_000; // default: after the last put, how long stragglers may take

export interface WatchRun extends CaseRun {
  /** Told (by the main thread) that the putter, in whichever worker, has made its puts. */
  putsDone(): void;
}

export function watchCase(task: WorkerTask, putsSent: () => void = () => {}): WatchRun {
  const o = task.opts;
  const key = Buffer.from(WATCH_KEY);
  let conns: Conn[] = [];
  const streams: ReturnType<Conn['watch']['Watch']>[] = [];
  const counts: Map<string, number>[] = [];
  let rec: Recorder | undefined;
  let received = 0;
  let onProgress: (() => void) | undefined;
  let putsDone!: () => void;
  const putsDoneP = new Promise<void>((r) => (putsDone = r));

  const onData = (si: number, created: () => void) => (r: any) => {
    if (r.created) created();
    const evs = r.events as any[] | undefined;
    if (!evs?.length) return;
    const now = process.hrtime.bigint();
    const m = counts[si]!;
    m.set(r.watch_id, (m.get(r.watch_id) ?? 0) + evs.length);
    for (const ev of evs) {
      const v = ev.kv?.value as Buffer | undefined;
      if (rec && v && v.length >= 8) rec.sample(Number(now - v.readBigInt64LE(0)) / 1e6);
      received++;
    }
    onProgress?.();
  };

  return {
    async setup() {
      conns = await openConns(task);
      let created = 0;
      const all = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${created}/${task.watchers} watchers created`)), CREATE_TIMEOUT_MS);
        const inc = (): void => {
          if (++created === task.watchers) (clearTimeout(t), resolve());
        };
        for (let s = 0; s < task.streams; s++) {
          const st = conns[s % conns.length]!.watch.Watch();
          counts.push(new Map());
          st.on('data', onData(s, inc));
          st.on('error', () => {});
          streams.push(st);
        }
        if (task.watchers === 0) (clearTimeout(t), resolve());
      });
      for (let w = 0; w < task.watchers; w++) streams[w % streams.length]!.write({ create_request: { key } });
      await all;
    },
    async run(r) {
      rec = r;
      r.start();
      if (task.putter) {
        await putLoop(conns[0]!, key, task, r);
        putsSent();
      }
      await putsDoneP;
      const expected = task.watchers * o.total;
      if (received < expected) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, o.watchGraceMs ?? WATCH_GRACE_MS);
          onProgress = () => received >= expected && (clearTimeout(t), resolve());
        });
      }
      r.t1 = hrMs();
      r.lost = Math.max(0, expected - received);
    },
    putsDone: () => putsDone(),
    close() {
      for (const s of streams) s.end();
      conns.forEach(closeConn);
    },
  };
}

/** Puts at --put-rate (0: back to back); a failed put is an error, and its event is not expected. */
async function putLoop(conn: Conn, key: Buffer, task: WorkerTask, r: Recorder): Promise<void> {
  const o = task.opts;
  const base = valueOf(Math.max(8, o.valSize));
  const t0 = performance.now();
  for (let i = 0; i < o.total; i++) {
    const due = o.putRate > 0 ? t0 + (i * 1000) / o.putRate : 0;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const value = Buffer.from(base);
    value.writeBigInt64LE(process.hrtime.bigint(), 0);
    try {
      await call(conn.kv.Put, conn.kv, { key, value });
    } catch (e) {
      r.error(`put: ${(e as Error).message}`);
    }
  }
}
