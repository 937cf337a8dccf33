/*
 * V8's young generation. Module loading and the key index load allocate fast and keep most of it, so
 * V8 doubles the semi-spaces up to their maximum (16 MB each on Node 20 and 22, 64 MB on Node 24:
 * 32 or 128 MB of new space, then resident for good) although an idle member needs almost none of it.
 * Held at its initial size until the member serves (growth factor 1), the young generation grows
 * afterwards only when client traffic asks for it, and only up to NEW_SPACE_CAP_BYTES: V8 reads its
 * maximum only at start, so after each collection a GC observer holds the growth once the new space's
 * next doubling would pass the cap (and lets it grow again if V8 shrank it far enough). Under 1,000
 * clients the cap took 17–25 MB off the peak RSS at no measurable CPU per request
 * (docs/benchmarks.md). An explicit node flag for the semi-spaces wins over both.
 */
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/** V8's own --semi-space-growth-factor (Node 20 to 24). */
const V8_GROWTH_FACTOR = 2;
/** The new space (both semi-spaces) grows no further than this once the member serves. */
export const NEW_SPACE_CAP_BYTES = 8 * 1024 * 1024;
const OWN_FLAG = /^--(semi[-_]space[-_]growth[-_]factor|max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size)\b/;

let held = false;
let observer: PerformanceObserver | undefined;

function setGrowth(hold: boolean): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${hold ? 1 : V8_GROWTH_FACTOR}`);
  held = hold;
}

function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Stops the young generation from growing; returns whether it did (not when node was given a semi-space flag). */
export function holdYoungGeneration(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => OWN_FLAG.test(a))) return false;
  setGrowth(true);
  return true;
}

/**
 * Lets the young generation grow again as V8 grows it (after holdYoungGeneration), up to `capBytes`
 * of new space.
 */
export function releaseYoungGeneration(capBytes = NEW_SPACE_CAP_BYTES): void {
  if (!held || observer) return;
  const check = (): void => {
    // V8 shrinks the new space to a multiple of its page size, so a doubling from below the cap can
    // pass it: held unless a whole growth step still fits.
    const hold = newSpaceBytes() * V8_GROWTH_FACTOR > capBytes;
    if (hold !== held) setGrowth(hold);
  };
  observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
  check();
}
