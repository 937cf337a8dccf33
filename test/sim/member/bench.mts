// Cost of the whole-member simulation per seed, by cluster size: wall and CPU ms (CPU is the honest
// number on a shared machine). npx tsx test/sim/member/bench.mts
import { runMemberSeed } from './run.js';

for (const size of [1, 3, 5]) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const st: Record<string, number> = {};
  const seeds = 8;
  for (let s = 1; s <= seeds; s++) {
    const r = await runMemberSeed({ seed: s, members: size });
    if (!r.ok) console.log('fail', s, r.error);
    for (const [k, v] of Object.entries(r.stats)) st[k] = (st[k] ?? 0) + v;
  }
  const c = process.cpuUsage(c0);
  console.log(size, 'members:', ((performance.now() - t0) / seeds).toFixed(0), 'ms wall/seed,', ((c.user + c.system) / 1000 / seeds).toFixed(0), 'ms cpu/seed', JSON.stringify(st));
}
