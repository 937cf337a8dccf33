/*
 * Clock: the member's time and timers, as an interface so that production hands it Node's (the system
 * clock, setTimeout: platform/clock.ts systemClock) and the seeded simulation a virtual clock whose
 * timers fire in order as the simulation advances time (test/sim/member/clock.ts).
 *
 * now() is wall-clock ms (leases, v2 TTLs, request deadlines); monoMs() is a monotonic ms reading for
 * durations (metrics, slow-operation warnings). A timer set with unref does not keep the process alive.
 */
export interface TimerHandle {
  readonly __timer?: never;
}

export interface Clock {
  now(): number;
  monoMs(): number;
  setTimeout(fn: () => void, ms: number, unref?: boolean): TimerHandle;
  clearTimeout(h: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number, unref?: boolean): TimerHandle;
  clearInterval(h: TimerHandle | undefined): void;
}

/** Resolves after `ms` on the clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimeout(resolve, ms, true));
}
