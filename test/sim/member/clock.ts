// The simulation's clock: virtual ms, timers fired in (time, order set) order by the driver (step).
// Each member gets a view (forMember) whose timers a crash cancels at once.
import type { Clock, TimerHandle } from '../../../src/pkg/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  owner: number;
  live: boolean;
}

export class SimClock {
  nowMs = 1_700_000_000_000;
  private seq = 0;
  private heap: Timer[] = [];
  /** owner -> alive; a dead owner's timers never fire. */
  private readonly dead = new Set<number>();

  forOwner(owner: number): Clock {
    const add = (fn: () => void, ms: number, every: number): TimerHandle => this.add(fn, ms, every, owner) as unknown as TimerHandle;
    const clear = (h: TimerHandle | undefined): void => {
      if (h) (h as unknown as Timer).live = false;
    };
    return {
      now: () => this.nowMs,
      monoMs: () => this.nowMs,
      setTimeout: (fn, ms) => add(fn, ms, 0),
      clearTimeout: clear,
      setInterval: (fn, ms) => add(fn, ms, Math.max(1, ms)),
      clearInterval: clear,
    };
  }

  /** Cancels every timer of an owner (a crashed member). */
  kill(owner: number): void {
    this.dead.add(owner);
  }

  revive(owner: number): void {
    this.dead.delete(owner);
  }

  add(fn: () => void, ms: number, every: number, owner: number): Timer {
    const t: Timer = { at: this.nowMs + Math.max(0, ms), seq: this.seq++, fn, every, owner, live: true };
    this.push(t);
    return t;
  }

  /**
   * Advances to the next instant a timer is due (not past `until`) and runs every timer due then, in
   * the order they were set; false when there is none. Timers set meanwhile for that same instant
   * wait for the next step.
   */
  step(until: number): boolean {
    let ran = false;
    let at = -1;
    for (;;) {
      const t = this.heap[0];
      if (!t || t.at > until || (ran && t.at !== at) || (ran && t.seq >= this.stepSeq)) return ran;
      if (!ran) this.stepSeq = this.seq;
      this.pop();
      if (!t.live || this.dead.has(t.owner)) continue;
      at = t.at;
      this.nowMs = Math.max(this.nowMs, t.at);
      if (t.every > 0) {
        t.at = this.nowMs + t.every;
        t.seq = this.seq++;
        this.push(t);
      } else t.live = false;
      t.fn();
      ran = true;
    }
  }

  private stepSeq = 0;

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
