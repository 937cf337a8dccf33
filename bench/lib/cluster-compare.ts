// bench:compare --cluster: three members of ours against three of real etcd 3.4 on this machine,
// one cluster at a time, ours then etcd in odd rounds and etcd then ours in even ones, a new cluster
// (fresh data dirs) per implementation and round. Each round: find the leader (Maintenance.Status),
// warm up (20,000 puts from 1,000 clients over every member, then 2,000 from one client on the
// leader), run every case of specs.ts'
// clusterCases() (etcd's benchmark tool when built, else the Node generator) with its connections on
// the leader, on one follower or spread over every member, the server's CPU being the sum of the
// three members' (the leader's share is printed), then kill -9 the leader and time the first put a
// survivor acknowledges (`failover_s`). Rows: medians over the rounds.
import { writeFileSync } from 'node:fs';
import type { Args } from './compare.js';
import { startCluster, type Cluster, type Member } from './cluster.js';
import type { Impl } from './daemons.js';
import { addSample, formatTable, notes, roundLine, sampleRows, type Row, type Samples } from './rows.js';
import { runBench } from './run.js';
import { etcdBenchmarkAvailable, etcdBenchmarkBin } from './etcd-benchmark.js';
import { BASE, clusterCases, warmupRuns, type CaseSpec, type ClusterCaseSpec, type ClusterTarget } from './specs.js';
import { median } from './stats.js';
import type { BenchOptions, BenchResult } from './types.js';

interface Rounds { samples: Samples; failover: Record<Impl, number[]>; leaderChanges: number }

function clusterOpts(spec: CaseSpec['opts'], target: ClusterTarget, leader: Member, c: Cluster): BenchOptions {
  // the leader first, so that cpuSByPid[0] is its share (and the first connection is the leader's)
  const live = [leader, ...c.members.filter((m) => m !== leader && m.alive())];
  // 'follower': the first live member after the leader (every put it takes is forwarded)
  const endpoints = target === 'leader' ? [leader.endpoint] : target === 'follower' ? [live[1]?.endpoint ?? leader.endpoint] : live.map((m) => m.endpoint);
  return { ...BASE, ...spec, endpoints, pid: live.map((m) => m.pid) };
}

/** ", leader 61% of the members' CPU" from a result's per-pid CPU. */
function leaderShare(r: BenchResult): string {
  const by = r.server?.cpuSByPid;
  const all = r.server?.cpuS;
  return by && all ? `, leader ${((100 * by[0]!) / all).toFixed(0)}% of the members' CPU` : '';
}

/** One implementation's round: a new cluster, every case on its leader, then the failover. */
async function clusterRound(r: number, impl: Impl, a: Args, specs: ClusterCaseSpec[], failover: boolean, acc: Rounds): Promise<void> {
  const t0 = performance.now();
  const c = await startCluster(impl);
  try {
    let leader = await c.leader();
    console.log(`round ${r} ${impl}: 3 members ready in ${secondsSince(t0)} s, leader ${leader.name} (pids ${c.members.map((m) => m.pid).join(', ')})`);
    const t = performance.now();
    // (no warm-up when only the failover is asked for: it times an election, not a warm path)
    // 1,000 clients over every member (without it put-1000-all cost ~2x the CPU per put of the same
    // case run again), then one client on the leader (put-1 likewise)
    const [warmup, warmupOne] = warmupRuns(a.scale, specs[0]?.opts.driver);
    if (specs.length > 0) {
      await runBench(clusterOpts(warmup, 'all', leader, c));
      await runBench(clusterOpts(warmupOne, 'leader', leader, c));
      console.log(`round ${r} ${impl}: warm-up ${warmup.total} puts from 1,000 clients, ${warmupOne.total} from one, in ${secondsSince(t)} s`);
    }
    for (const spec of specs) {
      const now = await c.leader();
      if (now !== leader) {
        acc.leaderChanges++;
        console.log(`round ${r} ${impl}: leader changed from ${leader.name} to ${now.name} before ${spec.name}`);
      }
      leader = now;
      const t = performance.now();
      const res = await runBench(clusterOpts(spec.opts, spec.target, leader, c));
      addSample(acc.samples, spec.name, impl, res);
      console.log(roundLine(r, spec.name, impl, res) + leaderShare(res) + ` [${secondsSince(t)} s with setup]`);
    }
    if (failover) {
      const f = await c.failover();
      acc.failover[impl].push(f.seconds);
      console.log(`round ${r} failover ${impl}: kill -9 of leader ${f.killed}, first put acknowledged after ${f.seconds.toFixed(2)} s (leader now ${f.next ?? '?'})`);
    }
  } finally {
    const t = performance.now();
    await c.stop();
    console.log(`round ${r} ${impl}: stopped in ${secondsSince(t)} s, ${secondsSince(t0)} s in all`);
  }
}

/** `bench:compare --cluster`: runs the rounds, prints the table and notes, writes --json. */
export async function runClusterCompare(a: Args): Promise<number> {
  const specs = clusterCases(a.scale).filter((s) => !a.only || a.only.includes(s.name));
  const withFailover = !a.only || a.only.includes('failover');
  const acc: Rounds = { samples: new Map(), failover: { ours: [], etcd: [] }, leaderChanges: 0 };
  console.log(etcdBenchmarkAvailable() ? `put and range driven by etcd's benchmark tool (${etcdBenchmarkBin()})`
    : "put and range driven by the Node generator (sudo bash bench/build-etcd-benchmark.sh builds etcd's own, lighter one)");
  const t0 = performance.now();
  for (let r = 1; r <= a.rounds; r++) {
    for (const impl of (r % 2 ? ['ours', 'etcd'] : ['etcd', 'ours']) as Impl[]) await clusterRound(r, impl, a, specs, withFailover, acc);
  }
  const rows: Row[] = sampleRows(acc.samples, true);
  // a failover with no acknowledged put within 30 s is NaN: listed in the notes, left out of the median
  const fo = (impl: Impl): number => median(acc.failover[impl].filter((x) => !Number.isNaN(x)));
  if (withFailover) rows.push({ case: 'failover', metric: 'failover_s', ours: fo('ours'), etcd: fo('etcd') });
  console.log(`\n3-member clusters, load on the leader (-leader, put-1), on one follower (-follower) or on every member (-all, range); medians of ${a.rounds} rounds in ${((performance.now() - t0) / 1000).toFixed(0)} s` +
    ` (ours/etcd: > 1 is better for req_per_s, < 1 for the others; cpu_us_per_req: the three members' CPU summed)\n`);
  console.log(formatTable(rows));
  console.log('\n' + notes(acc.samples));
  if (withFailover) console.log(`- failover: ours ${fmtList(acc.failover.ours)} s, etcd ${fmtList(acc.failover.etcd)} s`);
  if (acc.leaderChanges) console.log(`- the leader changed ${acc.leaderChanges} time(s) between cases (see the round lines)`);
  if (a.json) writeFileSync(a.json, JSON.stringify(rows, null, 2) + '\n');
  return 0;
}

const secondsSince = (t: number): string => ((performance.now() - t) / 1000).toFixed(1);
const fmtList = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
