// put, txn-put and range driven by etcd 3.4.23's own load generator (tools/benchmark, written in Go,
// built by bench/build-etcd-benchmark.sh) with `--driver etcd`: it needs a fraction of the CPU our
// Node generator does, so on a 2-core machine the server, not the generator, sets the pace.
// Flags as etcd's performance guide gives them (op-guide/performance.md): --key-size, --val-size,
// --sequential-keys, --key-space-size, --conns, --clients, --total; range reads one key, written
// first (keyOf(0)), with --consistency l|s. The tool's txn-put is a bare Txn(Then(Put)) on a random
// key of the key space (no compare, unlike the Node driver's Kubernetes-style txn-put).
// The result has the Node driver's shape: req/s and percentiles from the tool's summary; the
// generator's CPU is the child's (cutime + cstime of this process around the run).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './daemons.js';
import { keyOf } from './keys.js';
import { childrenCpuSeconds, endUsage, startUsage, withCpuPct } from './proc.js';
import type { BenchOptions, BenchResult } from './types.js';

/** The tool: $ETCD_BENCHMARK_BIN, else where bench/build-etcd-benchmark.sh puts it. */
export const etcdBenchmarkBin = (): string => process.env.ETCD_BENCHMARK_BIN ?? join(ROOT, '.cache/etcd-benchmark/benchmark');
export const etcdBenchmarkAvailable = (): boolean => existsSync(etcdBenchmarkBin());
export const ETCD_DRIVER_CASES: readonly string[] = ['put', 'txn-put', 'range'];

/** The tool's command line for one run of `o` against its first endpoint. */
export function etcdBenchmarkArgs(o: BenchOptions): string[] {
  const common = ['--endpoints', o.endpoints.join(','), '--conns', String(o.conns), '--clients', String(o.clients), '--precise'];
  const total = ['--total', String(o.total)];
  switch (o.case) {
    case 'put':
      return [...common, 'put', '--key-size', String(o.keySize), '--val-size', String(o.valSize), ...total,
        '--key-space-size', String(o.keySpace), ...(o.sequentialKeys ? ['--sequential-keys'] : [])];
    case 'txn-put':
      return [...common, 'txn-put', '--key-size', String(o.keySize), '--val-size', String(o.valSize), ...total,
        '--key-space-size', String(o.keySpace)];
    case 'range':
      return [...common, 'range', keyOf(0, o.keySize).toString(), '--consistency', o.consistency, ...total];
    default:
      throw new Error(`--driver etcd drives ${ETCD_DRIVER_CASES.join(', ')} only, not ${o.case}`);
  }
}

export interface ToolSummary { totalS: number; reqPerS: number; avgS: number; slowestS: number; pct: Map<number, number>; errors: Map<string, number> }

/** Parse the tool's report (pkg/report: "Summary:", "Latency distribution:", "Error distribution:"). */
export function parseToolOutput(out: string): ToolSummary {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const pct = new Map<number, number>();
  for (const m of out.matchAll(/^\s+([\d.]+)% in ([\d.e+-]+) secs/gm)) pct.set(Number(m[1]), Number(m[2]));
  const errors = new Map<string, number>();
  const errAt = out.indexOf('Error distribution:');
  if (errAt >= 0) for (const m of out.slice(errAt).matchAll(/^\s+\[(\d+)\]\s+(.*)$/gm)) errors.set(m[2]!, Number(m[1]));
  return {
    totalS: num(/Total:\s+([\d.e+-]+) secs/), reqPerS: num(/Requests\/sec:\s+([\d.e+-]+)/),
    avgS: num(/Average:\s+([\d.e+-]+) secs/), slowestS: num(/Slowest:\s+([\d.e+-]+) secs/), pct, errors,
  };
}

function runTool(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(etcdBenchmarkBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4096))); // the progress bar
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`benchmark exited ${code}: ${err.trim().slice(-500)}`))));
  });
}

/** One put, txn-put or range run with etcd's tool; a read case's key was written by prefill(). */
export async function runEtcdBenchmark(o: BenchOptions): Promise<BenchResult> {
  if (!etcdBenchmarkAvailable()) throw new Error(`--driver etcd: ${etcdBenchmarkBin()} is missing (sudo bash bench/build-etcd-benchmark.sh)`);
  const args = etcdBenchmarkArgs(o);
  const usage0 = startUsage(o.pid);
  const gen0 = childrenCpuSeconds();
  const t0 = performance.now();
  const out = await runTool(args);
  const wallS = (performance.now() - t0) / 1000;
  const genCpuS = childrenCpuSeconds() - gen0;
  const usage = endUsage(usage0);
  const s = parseToolOutput(out);
  const errors = [...s.errors.values()].reduce((a, n) => a + n, 0);
  const ok = Number.isFinite(s.reqPerS) ? Math.round(s.reqPerS * s.totalS) : 0;
  // the tool prints no percentile it cannot place (p99 of fewer than 100 requests): the slowest is it
  const ms = (q: number): number => (s.pct.get(q) ?? s.slowestS) * 1000;
  const runS = Number.isFinite(s.totalS) ? s.totalS : wallS;
  return {
    case: o.case, total: o.total, ok, errors, errorSamples: [...s.errors.keys()].slice(0, 3), conflicts: 0, lost: 0,
    wallS: runS, reqPerS: ok > 0 ? s.reqPerS : 0,
    latencyMs: { avg: s.avgS * 1000, p50: ms(50), p90: ms(90), p99: ms(99), max: s.slowestS * 1000 },
    workers: 0, generatorCpuS: genCpuS, generatorCpuPct: (100 * genCpuS) / runS,
    // the server's CPU over the tool's whole life (its connection setup included: a few ms)
    server: withCpuPct(usage, runS),
  };
}
