// bench:compare: a fresh member of ours and a fresh real etcd 3.4 (same flags, loopback), every case
// run against each in turn for --rounds rounds (ours then etcd in odd rounds, etcd then ours in even
// ones), then one table of medians: case, metric, ours, etcd, ours/etcd. The memory and restart
// phase uses a fresh pair each round: RSS when empty, load --restart-keys keys of 256 bytes (peak
// RSS), restart, seconds until a linearizable range is served. `--json FILE` writes
// [{"case","metric","ours","etcd"}] with metric req_per_s | p50_ms | p99_ms | rss_mb | restart_s.
// `--check-perf LOAD` instead runs `etcdctl check perf --load=LOAD` against a fresh member of each.
import { writeFileSync } from 'node:fs';
import { ETCD_BIN, oursRunner, startDaemon, type Daemon, type Impl } from './daemons.js';
import { rssMb } from './proc.js';
import { runBench } from './run.js';
import { median } from './stats.js';
import type { BenchOptions, BenchResult } from './types.js';
import { existsSync } from 'node:fs';
import { checkPerf } from './check-perf.js';
import { wrkAvailable } from './wrk.js';

export type Metric = 'req_per_s' | 'p50_ms' | 'p99_ms' | 'rss_mb' | 'restart_s';
export interface Row { case: string; metric: Metric; ours: number; etcd: number }

interface CaseSpec { name: string; opts: Partial<BenchOptions> & Pick<BenchOptions, 'case' | 'total'> }

const BASE: Omit<BenchOptions, 'case' | 'total' | 'endpoints'> = {
  conns: 1, clients: 1, keySize: 8, valSize: 256, keySpace: 1, sequentialKeys: false, consistency: 'l',
  watchers: 1, watchStreams: 1, putRate: 100, workers: 0,
};

/** The single-member cases, with totals at scale 1 (about 1–2 s each on etcd on a quiet 2-core box). */
export function singleMemberCases(scale: number, v2Driver: 'node' | 'wrk' = wrkAvailable() ? 'wrk' : 'node'): CaseSpec[] {
  const n = (x: number): number => Math.max(Math.min(x, 20), Math.round(x * scale));
  const many = { conns: 100, clients: 1000 };
  const v2 = { driver: v2Driver, durationS: Math.max(1, 3 * scale) }; // wrk runs for a time
  return [
    { name: 'put-1', opts: { case: 'put', total: n(2000) } },
    { name: 'put-1000', opts: { case: 'put', total: n(20_000), ...many } },
    { name: 'txn-put-1000', opts: { case: 'txn-put', total: n(20_000), ...many, keySpace: 1000 } },
    { name: 'range-l-1000', opts: { case: 'range', total: n(20_000), ...many } },
    { name: 'range-s-1000', opts: { case: 'range', total: n(20_000), ...many, consistency: 's' } },
    { name: 'watch-1', opts: { case: 'watch', total: n(100), watchers: 1, watchStreams: 1 } },
    // put rates keep the events/s (watchers x rate) well below what the generator decodes (~50k/s)
    { name: 'watch-100', opts: { case: 'watch', total: n(100), watchers: 100, watchStreams: 10, conns: 10, putRate: 50 } },
    { name: 'watch-10000', opts: { case: 'watch', total: n(10), watchers: 10_000, watchStreams: 100, conns: 10, putRate: 2 } },
    { name: 'lease-keepalive-100', opts: { case: 'lease-keepalive', total: n(10_000), conns: 10, clients: 100 } },
    // issue 5: v2 GET and PUT with 64 connections, one client each, driven by wrk when it is installed
    // (Node's HTTP client would be the bottleneck: lib/wrk.ts)
    { name: 'v2-put-64', opts: { case: 'v2-put', total: n(5000), conns: 64, clients: 64, ...v2 } },
    { name: 'v2-get-64', opts: { case: 'v2-get', total: n(5000), conns: 64, clients: 64, ...v2 } },
  ];
}

interface Args { rounds: number; scale: number; only?: string[]; json?: string; cluster: boolean; restartKeys: number; memory: boolean; checkPerf?: string }

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, scale: 1, cluster: false, restartKeys: 100_000, memory: true };
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
      case '--check-perf': a.checkPerf = v(); break;
      default: throw new Error(`bench:compare: unknown argument ${argv[i]}`);
    }
  }
  if (!(a.scale > 0) || !(a.restartKeys > 0)) throw new Error('--scale and --restart-keys must be positive');
  return a;
}

type Samples = Map<string, Record<Impl, BenchResult[]>>;

async function perfRounds(a: Args, samples: Samples): Promise<void> {
  const specs = singleMemberCases(a.scale).filter((c) => !a.only || a.only.includes(c.name));
  if (specs.length === 0) return;
  const d: Record<Impl, Daemon> = { ours: await startDaemon('ours'), etcd: await startDaemon('etcd') };
  try {
    for (const impl of ['ours', 'etcd'] as const) await runBench(benchOpts(d[impl], { case: 'put', total: 2000, conns: 10, clients: 100 }));
    for (let r = 1; r <= a.rounds; r++) {
      const order: Impl[] = r % 2 ? ['ours', 'etcd'] : ['etcd', 'ours'];
      for (const spec of specs) {
        for (const impl of order) {
          const res = await runBench(benchOpts(d[impl], spec.opts));
          if (!samples.has(spec.name)) samples.set(spec.name, { ours: [], etcd: [] });
          samples.get(spec.name)![impl].push(res);
          console.log(`round ${r} ${spec.name.padEnd(20)} ${impl.padEnd(4)} ${res.reqPerS.toFixed(0).padStart(7)}/s p50 ${res.latencyMs.p50.toFixed(2)} p99 ${res.latencyMs.p99.toFixed(2)} ms, errors ${res.errors}${res.case === 'watch' ? `, lost ${res.lost}` : ''}, generator CPU ${res.generatorCpuPct.toFixed(0)}%${serverCpu(res)}`);
        }
      }
    }
  } finally {
    await Promise.all([d.ours.stop(), d.etcd.stop()]);
  }
}

/** The server's CPU per answered request in µs (steadier than req/s when the machine is shared). */
function cpuPerRequestUs(r: BenchResult): number | undefined {
  const s = r.server?.cpuS;
  return s === undefined || r.ok === 0 ? undefined : (s * 1e6) / r.ok;
}

function serverCpu(r: BenchResult): string {
  const us = cpuPerRequestUs(r);
  return us === undefined ? '' : `, server CPU ${us.toFixed(0)} µs/req`;
}

function benchOpts(d: Daemon, o: CaseSpec['opts']): BenchOptions {
  return { ...BASE, ...o, endpoints: [d.endpoint], pid: d.pid };
}

interface MemorySample { emptyMb: number; loadedMb: number; loadReqPerS: number; restartS: number }

async function memoryRound(impl: Impl, keys: number): Promise<MemorySample> {
  const d = await startDaemon(impl);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const emptyMb = rssMb(d.pid) ?? NaN;
    const load = await runBench(benchOpts(d, { case: 'put', total: keys, conns: 100, clients: 1000, keySpace: keys, sequentialKeys: true }));
    const loadedMb = load.server?.peakRssMb ?? load.server?.rssMb ?? NaN;
    const restartS = await d.restart();
    console.log(`memory ${impl.padEnd(4)} empty ${emptyMb.toFixed(1)} MB, ${keys} keys loaded at ${load.reqPerS.toFixed(0)}/s (errors ${load.errors}), peak ${loadedMb.toFixed(1)} MB, restart ${restartS.toFixed(2)} s`);
    return { emptyMb, loadedMb, loadReqPerS: load.reqPerS, restartS };
  } finally {
    await d.stop();
  }
}

function rowsOf(samples: Samples, mem: Record<Impl, MemorySample[]>, keys: number): Row[] {
  const rows: Row[] = [];
  // a side that answered nothing (e.g. v2 not served) has no figures: NaN, printed '-', null in JSON
  const m = (xs: BenchResult[], f: (r: BenchResult) => number): number => median(xs.filter((r) => r.ok > 0).map(f));
  for (const [name, s] of samples) {
    rows.push({ case: name, metric: 'req_per_s', ours: m(s.ours, (r) => r.reqPerS), etcd: m(s.etcd, (r) => r.reqPerS) });
    rows.push({ case: name, metric: 'p50_ms', ours: m(s.ours, (r) => r.latencyMs.p50), etcd: m(s.etcd, (r) => r.latencyMs.p50) });
    rows.push({ case: name, metric: 'p99_ms', ours: m(s.ours, (r) => r.latencyMs.p99), etcd: m(s.etcd, (r) => r.latencyMs.p99) });
  }
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

const num = (x: number): string => (Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatTable(rows: Row[]): string {
  const lines = ['| case | metric | ours | etcd | ours/etcd |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.case} | ${r.metric} | ${num(r.ours)} | ${num(r.etcd)} | ${num(r.ours / r.etcd).replace(/^(\d+)$/, '$1')} |`);
  return lines.join('\n');
}

function notes(samples: Samples): string {
  const out: string[] = [];
  for (const [name, s] of samples) {
    const sum = (xs: BenchResult[], f: (r: BenchResult) => number): number => xs.reduce((a, r) => a + f(r), 0);
    const gen = (xs: BenchResult[]): string => median(xs.map((r) => r.generatorCpuPct)).toFixed(0);
    const cpu = (xs: BenchResult[]): string =>
      median(xs.map(cpuPerRequestUs).filter((us): us is number => us !== undefined)).toFixed(0);
    const errs = sum(s.ours, (r) => r.errors) + sum(s.etcd, (r) => r.errors);
    const lost = sum(s.ours, (r) => r.lost) + sum(s.etcd, (r) => r.lost);
    const sample = [...new Set([...s.ours, ...s.etcd].flatMap((r) => r.errorSamples))].slice(0, 2);
    out.push(`- ${name}: errors ours ${sum(s.ours, (r) => r.errors)} / etcd ${sum(s.etcd, (r) => r.errors)}` +
      `${lost ? `, lost events ours ${sum(s.ours, (r) => r.lost)} / etcd ${sum(s.etcd, (r) => r.lost)}` : ''}` +
      `; server CPU per request (median) ${cpu(s.ours)} / ${cpu(s.etcd)} µs; generator CPU ${gen(s.ours)}% / ${gen(s.etcd)}% of one core${errs && sample.length ? `; e.g. ${sample.map((e) => JSON.stringify(e)).join(', ')}` : ''}`);
  }
  return out.join('\n');
}

/** Entry point of `npm run bench:compare`; returns the exit code. */
export async function runCompare(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (a.cluster) {
    console.log('bench:compare --cluster: clustering is not available yet (single member only)');
    return 2;
  }
  if (!existsSync(ETCD_BIN)) {
    console.log(`bench:compare: real etcd is not installed at ${ETCD_BIN} (apt-get install -y etcd-server); nothing to compare with`);
    return 1;
  }
  const runner = oursRunner();
  console.log(`v2 cases driven by ${wrkAvailable() ? 'wrk' : "Node's HTTP client (apt-get install -y wrk for a lighter generator)"}`);
  const node = process.env.ETCD_TS_NODE_FLAGS ? `node ${process.env.ETCD_TS_NODE_FLAGS}` : 'node';
  console.log(`ours: ${process.env.ETCD_TS_MAIN ? `${node} ${process.env.ETCD_TS_MAIN}` : runner === 'dist' ? `${node} bin/etcd (dist/)` : `${node} --import tsx src/cli/main.ts (dist/ is older than src/: run npm run build for the real thing)`}; etcd: ${ETCD_BIN}; ${a.rounds} rounds, scale ${a.scale}`);
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
