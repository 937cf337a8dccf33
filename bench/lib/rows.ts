// The rows bench:compare prints and writes (`--json FILE`: [{"case","metric","ours","etcd"}]), shared
// by the single-member comparison (compare.ts) and the 3-member one (cluster-compare.ts): medians of
// each case's samples, the markdown table, and the notes under it (errors, CPU per request).
import type { Impl } from './daemons.js';
import { median } from './stats.js';
import type { BenchResult } from './types.js';

export type Metric = 'req_per_s' | 'p50_ms' | 'p99_ms' | 'rss_mb' | 'restart_s' | 'cpu_us_per_req' | 'gen_cpu_us_per_req' | 'peak_rss_mb' | 'failover_s';
export interface Row { case: string; metric: Metric; ours: number; etcd: number }

/** Each case's results, per implementation, in the order the cases first ran. */
export type Samples = Map<string, Record<Impl, BenchResult[]>>;

export function addSample(samples: Samples, name: string, impl: Impl, r: BenchResult): void {
  if (!samples.has(name)) samples.set(name, { ours: [], etcd: [] });
  samples.get(name)![impl].push(r);
}

/** The server's CPU per answered request in µs (steadier than req/s when the machine is shared). */
export function cpuPerRequestUs(r: BenchResult): number | undefined {
  const s = r.server?.cpuS;
  return s === undefined || r.ok === 0 ? undefined : (s * 1e6) / r.ok;
}

/** The generator's CPU per answered request in µs: what the load cost to make. */
export function genCpuPerRequestUs(r: BenchResult): number | undefined {
  return r.ok === 0 ? undefined : (r.generatorCpuS * 1e6) / r.ok;
}

export function serverCpu(r: BenchResult): string {
  const us = cpuPerRequestUs(r);
  return us === undefined ? '' : `, server CPU ${us.toFixed(0)} µs/req`;
}

/** One progress line per run of a case. */
export function roundLine(round: number, name: string, impl: Impl, res: BenchResult): string {
  return `round ${round} ${name.padEnd(20)} ${impl.padEnd(4)} ${res.reqPerS.toFixed(0).padStart(7)}/s p50 ${res.latencyMs.p50.toFixed(2)} p99 ${res.latencyMs.p99.toFixed(2)} ms, errors ${res.errors}${res.case === 'watch' ? `, lost ${res.lost}` : ''}, generator CPU ${res.generatorCpuPct.toFixed(0)}% (${genCpuPerRequestUs(res)?.toFixed(0) ?? '-'} µs/req)${serverCpu(res)}${res.server?.peakRssMb ? `, peak RSS ${res.server.peakRssMb.toFixed(0)} MB` : ''}`;
}

/** req_per_s, p50_ms and p99_ms per case (with the server's and generator's CPU per request and the
 * server's peak RSS when asked), medians over the rounds. */
export function sampleRows(samples: Samples, withCpu = false): Row[] {
  const rows: Row[] = [];
  // a side that answered nothing (e.g. v2 not served) has no figures: NaN, printed '-', null in JSON
  const m = (xs: BenchResult[], f: (r: BenchResult) => number | undefined): number =>
    median(xs.filter((r) => r.ok > 0).map(f).filter((x): x is number => x !== undefined));
  for (const [name, s] of samples) {
    rows.push({ case: name, metric: 'req_per_s', ours: m(s.ours, (r) => r.reqPerS), etcd: m(s.etcd, (r) => r.reqPerS) });
    rows.push({ case: name, metric: 'p50_ms', ours: m(s.ours, (r) => r.latencyMs.p50), etcd: m(s.etcd, (r) => r.latencyMs.p50) });
    rows.push({ case: name, metric: 'p99_ms', ours: m(s.ours, (r) => r.latencyMs.p99), etcd: m(s.etcd, (r) => r.latencyMs.p99) });
    if (!withCpu) continue;
    rows.push({ case: name, metric: 'cpu_us_per_req', ours: m(s.ours, cpuPerRequestUs), etcd: m(s.etcd, cpuPerRequestUs) });
    rows.push({ case: name, metric: 'gen_cpu_us_per_req', ours: m(s.ours, genCpuPerRequestUs), etcd: m(s.etcd, genCpuPerRequestUs) });
    const peak = (r: BenchResult): number | undefined => r.server?.peakRssMb;
    rows.push({ case: name, metric: 'peak_rss_mb', ours: m(s.ours, peak), etcd: m(s.etcd, peak) });
  }
  return rows;
}

const num = (x: number): string => (Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatTable(rows: Row[]): string {
  const lines = ['| case | metric | ours | etcd | ours/etcd |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.case} | ${r.metric} | ${num(r.ours)} | ${num(r.etcd)} | ${num(r.ours / r.etcd).replace(/^(\d+)$/, '$1')} |`);
  return lines.join('\n');
}

/** Per case: errors (and lost watch events), server CPU per request, generator CPU; ours / etcd. */
export function notes(samples: Samples): string {
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
