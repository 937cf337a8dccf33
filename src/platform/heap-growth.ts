/*
 * How far V8's old generation may grow past its live data before the next full collection. V8 picks
 * the factor itself, up to 4x when the program allocates fast, as a member under a write burst does:
 * a member holding 1 GB could reach 4 GB of RSS and be killed by a container's memory limit. Go's
 * default (GOGC=100), which etcd runs with, lets its heap reach twice the live data; we ask V8 for the
 * same. The cost is CPU: more full collections under load (measured in docs/benchmarks.md: peak RSS of
 * a 100,000-key load 307 -> 231 MB, about a tenth more CPU per write). An explicit
 * `node --heap-growing-percent=N` wins (0: V8's own heuristics). Node 24's V8 (13.x) reads the flag
 * only at start, so setting it here does nothing there; given on node's command line it does (a
 * member under 1,000 clients: peak RSS -13 MB, docs/benchmarks.md).
 */
import v8 from 'node:v8';

/** Heap growth allowed past the live data between full collections, in percent (Go's GOGC default). */
export const HEAP_GROWING_PERCENT = 100;

/** Sets V8's heap growth unless node was given its own; returns whether it did. Call once at start. */
export function capHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
