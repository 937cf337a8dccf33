// Churns with most allocations kept for a while (as module loading does, and as requests in flight
// under load do), in turns of the event loop so that GC observers run, and prints the new space's
// size: with the hold (argv[2] === 'hold'), after hold and release (capped at argv[3] bytes), or with
// V8's own growth ('free').
import v8 from 'node:v8';
const { holdYoungGeneration, releaseYoungGeneration } = await import('../../../src/platform/young-generation.ts');
if (process.argv[2] !== 'free') holdYoungGeneration([]);
if (process.argv[2] === 'released') releaseYoungGeneration(Number(process.argv[3]));
let keep = [];
for (let turn = 0; turn < 100; turn++) {
  for (let i = 0; i < 20_000; i++) {
    const o = { a: i, b: `x${i}` };
    if (i % 4 === 0) keep.push(o);
    if (keep.length > 200_000) keep = [];
  }
  await new Promise((r) => setImmediate(r));
}
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(ns.space_size);
