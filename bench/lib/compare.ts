// bench:compare: every case run against a fresh member of ours and a fresh real etcd 3.4 (same flags,
// loopback), in turn, for --rounds rounds (ours then etcd in odd rounds, etcd then ours in even
// ones), then one table of medians: case, metric, ours, etcd, ours/etcd. put, txn-put and range are
// driven by etcd's own benchmark tool when bench/build-etcd-benchmark.sh has built it. The memory and restart
// phase uses a fresh pair each round: RSS when empty, load --restart-keys keys of 256 bytes (peak
// RSS), restart, seconds until a linearizable range is served. `--json FILE` writes
// [{"case","metric","ours","etcd"}] with metric req_per_s | p50_ms | p99_ms | cpu_us_per_req (the
// server's) | gen_cpu_us_per_req (the generator's) | peak_rss_mb | rss_mb | restart_s.
// `--check-perf LOAD` instead runs `etcdctl check perf --load=LOAD` against a fresh member of each;
// `--cluster` compares 3-member clusters instead (cluster-compare.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { ETCD_BIN, oursNode, oursRunner, startDaemon, type Daemon, type Impl } from './daemons.js';
import { rssMb } from './proc.js';
import { addSample, formatTable, notes, roundLine, sampleRows, type Row, type Samples } from './rows.js';
import { runBench } from './run.js';
import { median } from './stats.js';
import type { BenchOptions } from './types.js';
import { checkPerf } from './check-perf.js';
import { benchToken, enableAuth } from './auth-setup.js';
import { runClusterCompare } from './cluster-compare.js';
import { BASE, singleMemberCases, warmupRuns, type CaseSpec } from './specs.js';
import { wrkAvailable } from './wrk.js';
import { etcdBenchmarkAvailable, etcdBenchmarkBin } from './etcd-benchmark.js';

export type { Metric, Row } from './rows.js';
export { singleMemberCases } from './specs.js';

export interface Args { rounds: number; scale: number; only?: string[]; json?: string; cluster: boolean; restartKeys: number; memory: boolean; checkPerf?: string; warm: boolean }

export function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, scale: 1, cluster: false, restartKeys: 100_000, memory: true, warm: false };
  for (let i = 0; i < argv.length; i++) {
    const v = (): string => argv[++i] ?? '';
    switch (argv[i]) {
      case '--rounds': a.rounds = Math.max(1, Number(v())); break;
      case '--scale': a.scale = Number(v()); break;
      case '--only': a.only = v().split(','); break;
      case '--json': a.json = v(); break;
      case '--cluster': a.cluster = true; break;
      case '--restart-keys': a.restartKeys = Number(v()); break;
      case '--no-memory': a.memory = false; break;
      case '--warm': a.warm = true; break;
      case '--check-perf': a.checkPerf = v(); break;
      default: throw new Error(`bench:compare: unknown argument ${argv[i]}`);
    }
  }
  if (!(a.scale > 0) || !(a.restartKeys > 0)) throw new Error('--scale and --restart-keys must be positive');
  return a;
}

/**
 * Every case against a fresh member of each (started, measured, stopped), ours first in odd rounds
 * and etcd first in even ones: each run starts cold, as a user's first load does; with --warm, after
 * the cluster compare's warm-up (warmupRuns) on both, so that what is measured is the warm path.
 */
async function perfRounds(a: Args, samples: Samples): Promise<void> {
  const specs = singleMemberCases(a.scale).filter((c) => !a.only || a.only.includes(c.name));
  if (specs.length === 0) return;
  for (let r = 1; r <= a.rounds; r++) {
    const order: Impl[] = r % 2 ? ['ours', 'etcd'] : ['etcd', 'ours'];
    for (const spec of specs) {
      for (const impl of order) {
        // the auth cases: auth enabled on the fresh member (after any warm-up), a fresh simple token of a restricted user
        const d = await startDaemon(impl, spec.opts.auth ? ['--bcrypt-cost', '4'] : []);
        try {
          if (a.warm) for (const w of warmupRuns(a.scale)) await runBench(benchOpts(d, w));
          if (spec.opts.auth) await enableAuth(d.endpoint);
          const token = spec.opts.auth ? await benchToken(d.endpoint) : undefined;
          const res = await runBench(benchOpts(d, { ...spec.opts, token }));
          addSample(samples, spec.name, impl, res);
          console.log(roundLine(r, spec.name, impl, res));
        } finally {
          await d.stop();
        }
      }
    }
  }
}

export function benchOpts(d: Daemon, o: CaseSpec['opts']): BenchOptions {
  return { ...BASE, ...o, endpoints: [d.endpoint], pid: d.pid };
}

interface MemorySample { emptyMb: number; loadedMb: number; loadReqPerS: number; restartS: number }

async function memoryRound(impl: Impl, keys: number): Promise<MemorySample> {
  const d = await startDaemon(impl);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const emptyMb = rssMb(d.pid) ?? NaN;
    const load = await runBench(benchOpts(d, { case: 'put', total: keys, conns: 100, clients: 1000, keySpace: keys, sequentialKeys: true,
      driver: etcdBenchmarkAvailable() ? 'etcd' : 'node' }));
    const loadedMb = load.server?.peakRssMb ?? load.server?.rssMb ?? NaN;
    const restartS = await d.restart();
    console.log(`memory ${impl.padEnd(4)} empty ${emptyMb.toFixed(1)} MB, ${keys} keys loaded at ${load.reqPerS.toFixed(0)}/s (errors ${load.errors}), peak ${loadedMb.toFixed(1)} MB, restart ${restartS.toFixed(2)} s`);
    return { emptyMb, loadedMb, loadReqPerS: load.reqPerS, restartS };
  } finally {
    await d.stop();
  }
}

function rowsOf(samples: Samples, mem: Record<Impl, MemorySample[]>, keys: number): Row[] {
  const rows = sampleRows(samples, true);
  if (mem.ours.length && mem.etcd.length) {
    const mm = (impl: Impl, f: (x: MemorySample) => number): number => median(mem[impl].map(f));
    const k = keys >= 1000 ? `${keys / 1000}k` : String(keys);
    rows.push({ case: 'empty', metric: 'rss_mb', ours: mm('ours', (x) => x.emptyMb), etcd: mm('etcd', (x) => x.emptyMb) });
    rows.push({ case: `load-${k}`, metric: 'req_per_s', ours: mm('ours', (x) => x.loadReqPerS), etcd: mm('etcd', (x) => x.loadReqPerS) });
    rows.push({ case: `load-${k}`, metric: 'rss_mb', ours: mm('ours', (x) => x.loadedMb), etcd: mm('etcd', (x) => x.loadedMb) });
    rows.push({ case: `restart-${k}`, metric: 'restart_s', ours: mm('ours', (x) => x.restartS), etcd: mm('etcd', (x) => x.restartS) });
  }
  return rows;
}

/** Entry point of `npm run bench:compare`; returns the exit code. */
export async function runCompare(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (!existsSync(ETCD_BIN)) {
    console.log(`bench:compare: real etcd is not installed at ${ETCD_BIN} (apt-get install -y etcd-server); nothing to compare with`);
    return 1;
  }
  const runner = oursRunner();
  if (!a.cluster) console.log(etcdBenchmarkAvailable() ? `put, txn-put and range driven by etcd's benchmark tool (${etcdBenchmarkBin()})`
    : "put, txn-put and range driven by the Node generator (sudo bash bench/build-etcd-benchmark.sh builds etcd's own, lighter one)");
  if (!a.cluster) console.log(`v2 cases driven by ${wrkAvailable() ? 'wrk' : "Node's HTTP client (apt-get install -y wrk for a lighter generator)"}`);
  const version = spawnSync(oursNode(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const node = `node ${version}${process.env.ETCD_TS_NODE_FLAGS ? ` ${process.env.ETCD_TS_NODE_FLAGS}` : ''}`;
  console.log(`ours: ${process.env.ETCD_TS_MAIN ? `${node} ${process.env.ETCD_TS_MAIN}` : runner === 'dist' ? `${node} bin/etcd (dist/)` : `${node} --import tsx src/cli/main.ts (dist/ is older than src/: run npm run build for the real thing)`}; etcd: ${ETCD_BIN}; ${a.rounds} rounds, scale ${a.scale}`);
  if (a.cluster) return runClusterCompare(a);
  if (a.checkPerf) {
    const r = await checkPerf(a.checkPerf);
    return r.every((x) => x.impl === 'etcd' || x.passed) ? 0 : 1;
  }
  const samples: Samples = new Map();
  await perfRounds(a, samples);
  const mem: Record<Impl, MemorySample[]> = { ours: [], etcd: [] };
  if (a.memory && (!a.only || a.only.includes('memory'))) {
    for (let r = 1; r <= a.rounds; r++) {
      for (const impl of (r % 2 ? ['ours', 'etcd'] : ['etcd', 'ours']) as Impl[]) mem[impl].push(await memoryRound(impl, a.restartKeys));
    }
  }
  const rows = rowsOf(samples, mem, a.restartKeys);
  console.log(`\nmedians of ${a.rounds} rounds (ours/etcd: > 1 is better for req_per_s, < 1 for the others)\n`);
  console.log(formatTable(rows));
  console.log('\n' + notes(samples));
  if (a.json) writeFileSync(a.json, JSON.stringify(rows, null, 2) + '\n');
  return 0;
}
