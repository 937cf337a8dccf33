// npm run robustness -- --profile NAME --seconds N --seed S
import { Command } from 'commander';
import { cleanup } from '../integration/harness.js';
import { PROFILES, runRobustness } from './runner.js';

// Ctrl-C: kill the members this run started (SIGKILL also ends a SIGSTOPped one)
process.once('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});

const cmd = new Command('robustness')
  .option('--profile <name>', `fault profile: ${Object.keys(PROFILES).join(', ')}`, 'all')
  .option('--seconds <n>', 'seconds of traffic', '30')
  .option('--seed <n>', 'seed of the fault schedule and the traffic', String(Date.now() % 100000))
  .option('--clients <n>', 'concurrent grpc-js clients', '4')
  .option('--etcd3 <n>', 'concurrent clients through the npm etcd3 client (etcd-like mix)', '2')
  .option('--keys <n>', 'keys in the key space', '5')
  .option('--members <n>', 'members (5 makes majority and minority partitions and bridges differ)', '3')
  .option('--traffic <kind>', 'etcd | kubernetes | mixed', 'mixed')
  .option('--mixed', 'the third member is real etcd 3.4')
  .option('--compact', 'compact every 2–3 s, 30 revisions behind')
  .option('--serializable', 'serializable (possibly stale) reads: a self-check that the checkers catch them')
  .parse();
const o = cmd.opts<{ profile: string; seconds: string; seed: string; clients: string; etcd3: string; keys: string; members: string; traffic: 'etcd' | 'kubernetes' | 'mixed'; serializable?: boolean; compact?: boolean; mixed?: boolean }>();
const profile = o.profile, seconds = Number(o.seconds), seed = Number(o.seed);
console.log(`robustness: profile ${profile}, ${seconds} s, seed ${seed}`);
const args = { profile, seconds, seed, clients: Number(o.clients), etcd3Clients: Number(o.etcd3), keys: Number(o.keys), members: Number(o.members), traffic: o.traffic, serializable: !!o.serializable, compact: !!o.compact, mixed: !!o.mixed };
const fail = (schedule: string[], anomalies: string[], folder: string) => {
  console.log(`FAIL: profile ${profile}, seed ${seed}, ${seconds} s`);
  console.log(`fault schedule:\n  ${schedule.join('\n  ')}`);
  console.log(`anomalies (${anomalies.length}):\n${anomalies.slice(0, 20).join('\n\n')}`);
  console.log(`history, anomalies and members' logs kept in ${folder}`);
  process.exit(1);
};
let r: Awaited<ReturnType<typeof runRobustness>>;
try {
  r = await runRobustness(args);
} catch (e) {
  // the run broke off (a member that never came back): the same report, from what the error carries
  const x = e as Error & { schedule?: string[]; anomalies?: string[]; folder?: string };
  fail(x.schedule ?? [], [...(x.anomalies ?? []), `run aborted: ${x.message}`], x.folder ?? '?');
  throw e;
}
console.log(`stats: ${JSON.stringify(r.stats)}`);
if (r.ok) {
  console.log(`PASS (profile ${profile}, seed ${seed})`);
  process.exit(0);
}
fail(r.schedule, r.anomalies, r.folder);
