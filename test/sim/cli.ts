// npm run sim -- --seed N                         replay one seed and print its event trace
// npm run sim -- --seeds 20000 --first-seed 100000   run a range (exit 1 on any violation, seeds printed)
// options: --nodes 3|5 (default: drawn per seed), --fault-ticks N
// npm run sim -- --members [--seed N | --seeds N]   whole members instead of the raft core (member/cli.ts)
import { memberCli } from './member/cli.js';
import { runSeed } from './run.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const nodes = arg('nodes') !== undefined ? Number(arg('nodes')) : undefined;
const faultTicks = arg('fault-ticks') !== undefined ? Number(arg('fault-ticks')) : undefined;
const one = arg('seed');

if (process.argv.includes('--members')) {
  await memberCli();
} else if (one !== undefined) {
  const res = runSeed({ seed: Number(one), nodes, faultTicks, trace: true });
  process.stdout.write(res.trace.join('\n') + '\n');
  console.log(JSON.stringify({ seed: res.seed, nodes: res.nodes, ok: res.ok, stats: res.stats }));
  if (!res.ok) {
    console.log(`FAILED seed ${res.seed}: ${res.error}`);
    process.exitCode = 1;
  }
} else {
  const count = Number(arg('seeds') ?? 100);
  const first = Number(arg('first-seed') ?? 1);
  const failed: number[] = [];
  const totals: Record<string, number> = {};
  const started = performance.now();
  for (let s = first; s < first + count; s++) {
    const res = runSeed({ seed: s, nodes, faultTicks });
    for (const [k, v] of Object.entries(res.stats)) totals[k] = (totals[k] ?? 0) + v;
    if (!res.ok) {
      failed.push(s);
      console.log(`seed ${s} (${res.nodes} nodes): ${res.error?.split('\n')[0]}`);
    }
    if ((s - first + 1) % 1000 === 0) console.error(`${s - first + 1} seeds, ${failed.length} failed`);
  }
  const secs = (performance.now() - started) / 1000;
  console.log(`totals: ${JSON.stringify(totals)}`);
  console.log(`${count - failed.length} passed, ${failed.length} failed (${secs.toFixed(1)} s)`);
  if (failed.length > 0) {
    console.log(`failing seeds: ${failed.join(' ')}`);
    process.exitCode = 1;
  }
}
