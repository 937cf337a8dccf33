// npm run sim -- --members --seed N              replay one seed of the whole-member simulation (trace)
// npm run sim -- --members --seeds 2000 [--first-seed S] [--size 1|3|5] [--stop]   run a range (--stop: at the first failure)
import { runMemberSeed } from './run.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function memberCli(): Promise<void> {
  const size = arg('size') !== undefined ? Number(arg('size')) : undefined;
  const one = arg('seed');
  if (one !== undefined) {
    const res = await runMemberSeed({ seed: Number(one), members: size, trace: true });
    process.stdout.write(res.trace.join('\n') + '\n');
    console.log(JSON.stringify({ seed: res.seed, members: res.members, ok: res.ok, stats: res.stats }));
    if (!res.ok) {
      console.log(`FAILED seed ${res.seed}: ${res.error}`);
      process.exitCode = 1;
    }
    return;
  }
  const count = Number(arg('seeds') ?? 100);
  const first = Number(arg('first-seed') ?? 1);
  const failed: number[] = [];
  const totals: Record<string, number> = {};
  const started = performance.now();
  let ran = 0;
  for (let s = first; s < first + count; s++) {
    ran++;
    const res = await runMemberSeed({ seed: s, members: size });
    for (const [k, v] of Object.entries(res.stats)) totals[k] = (totals[k] ?? 0) + v;
    if (!res.ok) {
      failed.push(s);
      console.log(`seed ${s} (${res.members} members): ${res.error?.split('\n')[0]}`);
      if (process.argv.includes('--stop')) break;
    }
  }
  const secs = (performance.now() - started) / 1000;
  console.log(`totals: ${JSON.stringify(totals)}`);
  const cpu = process.cpuUsage();
  console.log(`${ran - failed.length} passed, ${failed.length} failed (${secs.toFixed(1)} s, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU)`);
  if (failed.length > 0) {
    console.log(`failing seeds: ${failed.join(' ')}`);
    process.exitCode = 1;
  }
}
