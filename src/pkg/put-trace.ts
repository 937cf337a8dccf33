/*
 * The stages of one write's path through the member, timed (ETCD_TS_TRACE_PUT=FILE; off otherwise,
 * where every call site is one test of a constant). Meant for one client making one request at a time
 * (bench:compare's put-1, the watch cases): each `recv` (bytes from a client's socket) opens a new
 * sequence, and every stage marked until the next `recv` belongs to it. At exit (and every
 * DUMP_EVERY sequences) FILE is rewritten with, per stage, the median and p90 of its time since the
 * sequence's `recv` and since the stage marked before it, over the sequences that reached it, for
 * all of them and for each DUMP_EVERY in turn.
 *
 *   ETCD_TS_TRACE_PUT=/tmp/trace.txt bin/etcd ...   then one client's puts, then SIGTERM
 *
 * A stage is counted once per sequence (its first mark), so a stage marked many times in a turn
 * (one per watcher) shows when the first of them happened.
 */
import { writeFileSync } from 'node:fs';

/** The stages, in the order a put from one client goes through them. */
export const Stage = {
  /** Bytes read from a client's socket (platform/h2/connection.ts onBytes). */
  recv: 0,
  /** A unary call's request decoded, its handler about to run (api/v3/h2-call.ts). */
  call: 1,
  /** The request encoded as an entry and its waiter registered (server/proposer.ts). */
  propose: 2,
  /** The turn's proposals handed to raft (the proposer's microtask). */
  raftPropose: 3,
  /** The Ready loop took a Ready holding entries (server/raft-node.ts). */
  ready: 4,
  /** The WAL's save began encoding (its turn in the WAL's chain). */
  walEncode: 5,
  /** The records' write (and flush) issued. */
  walWrite: 6,
  /** The write (and flush) completed. */
  walDone: 7,
  /** The Ready loop resumed after the save. */
  saved: 8,
  /** Committed entries handed to the applier. */
  apply: 9,
  /** A watcher was handed the events of an apply (mvcc/watchable.ts). */
  watchNotify: 10,
  /** The applier returned. */
  applied: 11,
  /** A unary call's reply handed to its HTTP/2 stream (api/v3/h2-call.ts). */
  reply: 12,
  /** A watch stream's response framed for its HTTP/2 stream (api/v3/watch.ts). */
  watchSend: 13,
  /** An HTTP/2 connection's output of the turn written to its socket. */
  sockWrite: 14,
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

const NAMES = Object.keys(Stage);
const STAGES = NAMES.length;
const DUMP_EVERY = 2000;
const MAX_SEQUENCES = 200_000;

const file = process.env.ETCD_TS_TRACE_PUT ?? '';
/** Whether stages are timed: call sites test it before calling mark. */
export const TRACE_PUT = file !== '';

/** Slot of a sequence's count of reads before its first later stage. */
const RECVS = STAGES;
let current = new Float64Array(STAGES + 1).fill(NaN);
let open = false;
let started = false;
const done: Float64Array[] = [];

/** Records the time of `stage` in the current sequence (the first mark of each stage counts). */
export function mark(stage: Stage): void {
  const t = performance.now();
  if (stage === Stage.recv) {
    // a request read in pieces (a client writing HEADERS and DATA apart) is one sequence from its first
    if (open && !started) return void (current[RECVS]! += 1);
    if (open) close();
    open = true;
    started = false;
    current[Stage.recv] = t;
    current[RECVS] = 1;
    return;
  }
  started = true;
  if (open && Number.isNaN(current[stage])) current[stage] = t;
}

function close(): void {
  if (done.length < MAX_SEQUENCES) done.push(current);
  current = new Float64Array(STAGES + 1).fill(NaN);
  if (done.length % DUMP_EVERY === 0) dump();
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The table of stages over the sequences so far (µs), as written to FILE. */
export function traceReport(seqs: readonly Float64Array[] = done): string {
  const lines = [`stage timeline over ${seqs.length} sequences (µs; "since recv" and "since the previous stage reached", median / p90; n = sequences reaching it)`];
  lines.push(`${'stage'.padEnd(12)} ${'n'.padStart(7)}  ${'since recv'.padStart(17)}  ${'step'.padStart(17)}`);
  for (let s = 1; s < STAGES; s++) {
    const since: number[] = [];
    const step: number[] = [];
    for (const q of seqs) {
      const t = q[s]!;
      if (Number.isNaN(t)) continue;
      since.push((t - q[0]!) * 1000);
      let prev = q[0]!;
      for (let p = s - 1; p >= 0; p--) {
        if (!Number.isNaN(q[p]!) && q[p]! <= t) {
          prev = q[p]!;
          break;
        }
      }
      step.push((t - prev) * 1000);
    }
    if (since.length === 0) continue;
    since.sort((a, b) => a - b);
    step.sort((a, b) => a - b);
    const f = (v: number): string => v.toFixed(1);
    lines.push(
      `${NAMES[s]!.padEnd(12)} ${String(since.length).padStart(7)}  ${`${f(quantile(since, 0.5))} / ${f(quantile(since, 0.9))}`.padStart(17)}  ${`${f(quantile(step, 0.5))} / ${f(quantile(step, 0.9))}`.padStart(17)}`,
    );
  }
  // the gap from a sequence's last socket write to the next recv: the client's turn and the kernel's
  const gaps: number[] = [];
  for (let i = 1; i < seqs.length; i++) {
    const w = seqs[i - 1]![Stage.sockWrite]!;
    if (!Number.isNaN(w)) gaps.push((seqs[i]![0]! - w) * 1000);
  }
  gaps.sort((a, b) => a - b);
  const split = seqs.filter((q) => q[RECVS]! > 1).length;
  lines.push(`sequences whose request came in more than one read: ${split}`);
  if (gaps.length > 0) lines.push(`sockWrite → next recv (client and kernel): ${quantile(gaps, 0.5).toFixed(1)} / ${quantile(gaps, 0.9).toFixed(1)}`);
  return `${lines.join('\n')}\n`;
}

/** The reports of each DUMP_EVERY sequences so far (a fresh member's first puts run colder code). */
const blocks: string[] = [];

function dump(): void {
  if (done.length % DUMP_EVERY === 0 && done.length / DUMP_EVERY > blocks.length) {
    blocks.push(`sequences ${done.length - DUMP_EVERY + 1}-${done.length}: ${traceReport(done.slice(-DUMP_EVERY))}`);
  }
  writeFileSync(file, [`all: ${traceReport()}`, ...blocks].join('\n'));
}

if (TRACE_PUT) {
  process.on('exit', () => {
    if (open) close();
    dump();
  });
}
