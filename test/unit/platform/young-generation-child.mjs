// Churns with most allocations kept for a while (as module loading does) and prints the new space's
// size: with the hold (argv[2] === 'hold'), or after hold and release, or with V8's own growth.
import v8 from 'node:v8';
const { holdYoungGeneration, releaseYoungGeneration } = await import('../../../src/platform/young-generation.ts');
if (process.argv[2] !== 'free') holdYoungGeneration([]);
if (process.argv[2] === 'released') releaseYoungGeneration();
let keep = [];
for (let i = 0; i < 2e6; i++) {
  const o = { a: i, b: `x${i}` };
  if (i % 10 === 0) keep.push(o);
  if (keep.length > 50_000) keep = [];
}
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(ns.space_size);
