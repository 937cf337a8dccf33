// Child of heap-growth.test.ts: keeps ~20 MB of small objects live, churns garbage that lives long
// enough to be promoted, and prints the largest old-space size it saw, in MB (the space the growth
// factor governs; the young generation's size differs between Node releases).
import v8 from 'node:v8';
import { capHeapGrowth } from '../../../src/platform/heap-growth.ts';

if (process.argv[2] === 'cap') capHeapGrowth([]);
const live = [];
for (let i = 0; i < 200_000; i++) live.push({ i, s: `live-${i}`.padEnd(40, '.') });
let peak = 0;
const ring = new Array(100_000);
for (let i = 0; i < 1_500_000; i++) {
  ring[i % ring.length] = { i, s: `v${i}`.padEnd(40, '.') }; // promoted, then garbage
  if (i % 20_000 === 0) peak = Math.max(peak, v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space').space_size / 1048576);
}
if (live.length !== 200_000) throw new Error('unreachable');
process.stdout.write(`${peak.toFixed(0)}\n`);
