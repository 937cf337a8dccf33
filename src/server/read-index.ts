/*
 * Linearizable reads through raft's ReadIndex, batched as etcd batches them: every read that arrives
 * while a ReadIndex round is in flight waits for the next round, and one round serves them all.
 * A read is released once the applied index reaches the read index the leader confirmed.
 */
import type { Clock, TimerHandle } from '../pkg/clock.js';
import { systemClock } from '../platform/clock.js';

export interface ReadIndexDeps {
  /** Asks raft for a read index; the answer arrives through onReadState with the same context. */
  requestReadIndex(ctx: Uint8Array): void;
  appliedIndex(): number;
  /**
   * A context unique across the cluster (etcd uses its request id generator, whose ids carry the
   * member id): the leader answers each context once, so two members must never send the same one.
   */
  nextContext(): bigint;
  /** How long a round waits for its answer before it is sent again (a dropped message, a lost leader). */
  retryMs?: number;
  /** A read still unanswered after this long fails with timeoutError() (etcd's ReqTimeout). */
  timeoutMs?: number;
  timeoutError?(): unknown;
  /** Default the system clock. */
  clock?: Clock;
}

/** etcd 3.5's readIndexRetryTime. */
export const READ_INDEX_RETRY_MS = 500;

interface Round {
  ctx: Buffer;
  timer?: TimerHandle;
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void; sinceMs: number }>;
}

interface AppliedWaiter {
  index: number;
  resolve: () => void;
}

/** The most reads a single round serves before the next one starts (bounds latency of a burst). */
export const READ_INDEX_BATCH_MAX = 10_000;

export class ReadIndexer {
  private inFlight: Round | undefined;
  private next: Round['waiters'] = [];
  private appliedWaiters: AppliedWaiter[] = [];
  /** Rounds that could not be requested, and rounds retried (unanswered in time or leader changed), for /metrics. */
  readonly counts = { failed: 0, slow: 0 };

  private readonly clock: Clock;

  constructor(private readonly deps: ReadIndexDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Resolves when a read at this moment may be served from the local store. */
  waitLinearizable(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.next.push({ resolve, reject, sinceMs: this.clock.now() });
      if (!this.inFlight) this.startRound();
    });
  }

  onReadState(ctx: Uint8Array, index: number): void {
    const round = this.inFlight;
    if (!round || Buffer.compare(round.ctx, ctx) !== 0) return;
    this.clearInFlight();
    const release = (): void => round.waiters.forEach((w) => w.resolve());
    if (this.deps.appliedIndex() >= index) release();
    else this.appliedWaiters.push({ index, resolve: release });
    if (this.next.length > 0) this.startRound();
  }

  /** Called after each apply batch. */
  onApplied(applied: number): void {
    if (this.appliedWaiters.length === 0) return;
    const keep: AppliedWaiter[] = [];
    for (const w of this.appliedWaiters) (applied >= w.index ? w.resolve() : keep.push(w));
    this.appliedWaiters = keep;
  }

  /** Leadership changed or the request could not be sent: retry the round in flight. */
  retry(): void {
    if (!this.inFlight) return;
    this.counts.slow++;
    let waiting = this.inFlight.waiters;
    const { timeoutMs, timeoutError } = this.deps;
    if (timeoutMs !== undefined && timeoutError) {
      const oldest = this.clock.now() - timeoutMs;
      for (const w of waiting) if (w.sinceMs <= oldest) w.reject(timeoutError());
      waiting = waiting.filter((w) => w.sinceMs > oldest);
    }
    this.next = waiting.concat(this.next);
    this.clearInFlight();
    this.startRound();
  }

  failAll(err: unknown): void {
    const all = [...(this.inFlight?.waiters ?? []), ...this.next];
    this.clearInFlight();
    this.next = [];
    all.forEach((w) => w.reject(err));
  }

  private clearInFlight(): void {
    if (this.inFlight?.timer) this.clock.clearTimeout(this.inFlight.timer);
    this.inFlight = undefined;
  }

  private startRound(): void {
    if (this.next.length === 0) return;
    const ctx = Buffer.alloc(8);
    ctx.writeBigUInt64BE(BigInt.asUintN(64, this.deps.nextContext()));
    const waiters = this.next.splice(0, READ_INDEX_BATCH_MAX);
    const round: Round = { ctx, waiters };
    this.inFlight = round;
    try {
      this.deps.requestReadIndex(ctx);
    } catch (err) {
      this.inFlight = undefined;
      this.counts.failed++;
      waiters.forEach((w) => w.reject(err));
      return;
    }
    // No answer in time (the request or its answer was dropped): send the round again, under a new
    // context, so a late answer to the old one is not mistaken for it.
    round.timer = this.clock.setTimeout(() => {
      if (this.inFlight === round) this.retry();
    }, this.deps.retryMs ?? READ_INDEX_RETRY_MS, true);
  }
}
