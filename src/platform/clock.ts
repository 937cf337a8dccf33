// The system clock and Node's timers as pkg/clock's Clock.
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../pkg/clock.js';

type NodeTimer = ReturnType<typeof setTimeout>;

export const systemClock: Clock & { idleMs(): number } = {
  /** The event loop's cumulative idle time (ms). */
  idleMs: () => performance.eventLoopUtilization().idle,
  now: () => Date.now(),
  monoMs: () => performance.now(),
  setTimeout: (fn, ms, unref) => {
    const t = setTimeout(fn, ms);
    if (unref) t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => clearTimeout(h as unknown as NodeTimer | undefined),
  setInterval: (fn, ms, unref) => {
    const t = setInterval(fn, ms);
    if (unref) t.unref();
    return t as unknown as TimerHandle;
  },
  clearInterval: (h) => clearInterval(h as unknown as NodeTimer | undefined),
};
