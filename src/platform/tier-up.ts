/*
 * How soon V8 optimizes a hot function. A fresh member's first thousands of requests run the request
 * path in V8's interpreter and baseline code: with one client, the first 2,000 puts spend ~170 µs
 * between the socket read and the WAL write, those after 6,000 ~28 µs (pkg/put-trace.ts), and etcd,
 * compiled ahead of time, has no such start. Asked to optimize after a quarter of the work V8 waits
 * for by default, the request path reaches optimized code in about a quarter of the requests; the
 * compiles are the same ones, only sooner (docs/benchmarks.md, put-1). Node 20's V8 (11.3) counts the
 * work in bytecode executed (--interrupt-budget); Node 22's and 24's (12.x, 13.x) count invocations
 * (--invocation-count-for-turbofan, and for Maglev, their mid tier). An explicit node flag for either wins.
 * Set once the member serves, not at start: a start's code (module evaluation, .proto parsing, the
 * routers' tables) runs once, and a quarter budget had V8 optimize 78 of its functions instead of 24,
 * ~180 ms more compiling per start on V8's threads.
 */
import v8 from 'node:v8';

/** The share of V8's default tier-up work asked for (1/TIER_UP_DIVISOR). */
export const TIER_UP_DIVISOR = 4;
/** V8 11.x's default --interrupt-budget (Node 20). */
const V8_11_INTERRUPT_BUDGET = 66 * 1024;
/** V8 12.x and 13.x defaults (Node 22, 24). */
const V8_12_TURBOFAN_INVOCATIONS = 3000;
const V8_12_MAGLEV_INVOCATIONS = 400;

const OWN_FLAG = /^--(interrupt[-_]budget|invocation[-_]count[-_]for[-_](turbofan|maglev))\b/;

/** The V8 flags tierUpSooner sets for a V8 version (process.versions.v8). */
export function tierUpFlags(v8Version: string): string[] {
  const major = Number(v8Version.split('.')[0]);
  if (!(major >= 11)) return [];
  if (major === 11) return [`--interrupt-budget=${Math.round(V8_11_INTERRUPT_BUDGET / TIER_UP_DIVISOR)}`];
  return [
    `--invocation-count-for-turbofan=${Math.round(V8_12_TURBOFAN_INVOCATIONS / TIER_UP_DIVISOR)}`,
    `--invocation-count-for-maglev=${Math.round(V8_12_MAGLEV_INVOCATIONS / TIER_UP_DIVISOR)}`,
  ];
}

/** Sets the flags unless node was given its own; returns those set. Call once the member serves. */
export function tierUpSooner(execArgv: readonly string[] = process.execArgv, v8Version: string = process.versions.v8): string[] {
  if (execArgv.some((a) => OWN_FLAG.test(a))) return [];
  const flags = tierUpFlags(v8Version);
  for (const f of flags) v8.setFlagsFromString(f);
  return flags;
}
