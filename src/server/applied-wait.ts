// Waiters for the applied index to reach a value (etcd's applyWait): a simple token names the raft
// index of the Authenticate that made it, and a member checks it only once it has applied that index.
import type { Clock, TimerHandle } from '../pkg/clock.js';
import { systemClock } from '../platform/clock.js';

interface Waiter {
  index: number;
  resolve: () => void;
  reject: (e: unknown) => void;
  timer: TimerHandle;
}

/** Pending waits at most (more are refused at once with the timeout's error). */
export const APPLIED_WAITERS_MAX = 10_000;

export class AppliedWait {
  private waiters: Waiter[] = [];

  constructor(private readonly clock: Clock = systemClock) {}

  wait(index: number, timeoutMs: number, timeoutError: () => unknown): Promise<void> {
    if (this.waiters.length >= APPLIED_WAITERS_MAX) return Promise.reject(timeoutError());
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { index, resolve, reject, timer: this.clock.setTimeout(() => this.drop(w, timeoutError()), timeoutMs, true) };
      this.waiters.push(w);
    });
  }

  onApplied(applied: number): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.index <= applied) {
        this.clock.clearTimeout(w.timer);
        w.resolve();
      } else keep.push(w);
    }
    this.waiters = keep;
  }

  failAll(err: unknown): void {
    for (const w of this.waiters) {
      this.clock.clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters = [];
  }

  private drop(w: Waiter, err: unknown): void {
    this.waiters = this.waiters.filter((x) => x !== w);
    w.reject(err);
  }
}
