/*
 * Linearizable reads through raft's ReadIndex, batched as etcd batches them: every read that arrives
 * while a ReadIndex round is in flight waits for the next round, and one round serves them all.
 * A read is released once the applied index reaches the read index the leader confirmed.
 */

export interface ReadIndexDeps {
  /** Asks raft for a read index; the answer arrives through onReadState with the same context. */
  requestReadIndex(ctx: Uint8Array): void;
  appliedIndex(): number;
}

interface Round {
  ctx: Buffer;
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

interface AppliedWaiter {
  index: number;
  resolve: () => void;
}

/** The most reads a single round serves before the next one starts (bounds latency of a burst). */
export const READ_INDEX_BATCH_MAX = 10_000;

export class ReadIndexer {
  private seq = 0n;
  private inFlight: Round | undefined;
  private next: Round['waiters'] = [];
  private appliedWaiters: AppliedWaiter[] = [];

  constructor(private readonly deps: ReadIndexDeps) {}

  /** Resolves when a read at this moment may be served from the local store. */
  waitLinearizable(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.inFlight) this.startRound();
    });
  }

  onReadState(ctx: Uint8Array, index: number): void {
    const round = this.inFlight;
    if (!round || Buffer.compare(round.ctx, ctx) !== 0) return;
    this.inFlight = undefined;
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
    this.next = this.inFlight.waiters.concat(this.next);
    this.inFlight = undefined;
    this.startRound();
  }

  failAll(err: unknown): void {
    const all = [...(this.inFlight?.waiters ?? []), ...this.next];
    this.inFlight = undefined;
    this.next = [];
    all.forEach((w) => w.reject(err));
  }

  private startRound(): void {
    this.seq += 1n;
    const ctx = Buffer.alloc(8);
    ctx.writeBigUInt64BE(this.seq);
    const waiters = this.next.splice(0, READ_INDEX_BATCH_MAX);
    this.inFlight = { ctx, waiters };
    try {
      this.deps.requestReadIndex(ctx);
    } catch (err) {
      this.inFlight = undefined;
      waiters.forEach((w) => w.reject(err));
    }
  }
}
