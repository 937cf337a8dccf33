/*
 * The wait registry: a proposer registers the id of its proposal and receives a promise; the apply loop
 * triggers the id with the result once the entry is applied (or the server fails it on shutdown).
 * Owned by the server; ids are unique per member (see idgen.ts). A waiter may carry a deadline, which
 * expire() enforces; nothing of a waiter outlives it (a separate list of deadlines would keep a record
 * of every request for the whole request timeout, long enough for the GC to promote each one).
 */

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  /** ms after which expire() fails the waiter; Infinity: never. */
  at: number;
}

export class WaitRegistry<T = unknown> {
  private readonly waiters = new Map<bigint, Waiter<T>>();

  register(id: bigint, deadlineMs = Infinity): Promise<T> {
    if (this.waiters.has(id)) throw new Error(`wait: duplicate id ${id}`);
    return new Promise<T>((resolve, reject) => this.waiters.set(id, { resolve, reject, at: deadlineMs }));
  }

  /**
   * Fails with err() every waiter whose deadline is at or before nowMs, and returns how many. It walks
   * the waiters in registration order (a Map's) and stops at the first one still in time, so it is
   * meant for deadlines registered in nondecreasing order, as one timeout for all gives.
   */
  expire(nowMs: number, err: () => unknown): number {
    let failed = 0;
    for (const [id, w] of this.waiters) {
      if (w.at > nowMs) break;
      this.waiters.delete(id);
      w.reject(err());
      failed += 1;
    }
    return failed;
  }

  isRegistered(id: bigint): boolean {
    return this.waiters.has(id);
  }

  trigger(id: bigint, value: T): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.resolve(value);
  }

  fail(id: bigint, err: unknown): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.reject(err);
  }

  failAll(err: unknown): void {
    for (const [id, w] of this.waiters) {
      this.waiters.delete(id);
      w.reject(err);
    }
  }

  get size(): number {
    return this.waiters.size;
  }
}
