// Human-readable output of one run.
import type { BenchOptions, BenchResult } from './types.js';

const f = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));

export function describeRun(o: BenchOptions): string {
  const what = o.case === 'watch'
    ? `${o.total} puts at ${o.putRate || 'max'}/s, ${o.watchers} watchers on ${o.watchStreams} streams`
    : `${o.total} requests, ${o.clients} clients`;
  const extra = o.case === 'range' ? `, ${o.consistency === 's' ? 'serializable' : 'linearizable'}` : '';
  return `${o.case}${extra}: ${what}, ${o.conns} conns to ${o.endpoints.join(',')}, key ${o.keySize} B, value ${o.valSize} B, key-space ${o.keySpace}${o.sequentialKeys ? ' (sequential)' : ''}`;
}

export function formatResult(r: BenchResult): string {
  const l = r.latencyMs;
  const unit = r.case === 'watch' ? 'events' : 'requests';
  const lines = [
    `  ${unit} ok ${r.ok}, errors ${r.errors}${r.conflicts ? `, conflicts ${r.conflicts}` : ''}${r.case === 'watch' ? `, lost ${r.lost}` : ''} in ${f(r.wallS, 3)} s`,
    `  ${unit}/s  ${f(r.reqPerS, 1)}`,
    `  latency ms  avg ${f(l.avg, 3)}  p50 ${f(l.p50, 3)}  p90 ${f(l.p90, 3)}  p99 ${f(l.p99, 3)}  max ${f(l.max, 3)}`,
    `  generator   ${r.workers} worker thread(s), CPU ${f(r.generatorCpuS)} s (${f(r.generatorCpuPct, 0)}% of one core)`,
  ];
  if (r.server) {
    const s = r.server;
    lines.push(`  server      CPU ${f(s.cpuS)} s (${f(s.cpuPct, 0)}% of one core), RSS ${f(s.rssMb, 1)} MB, peak during run ${f(s.peakRssMb, 1)} MB${s.cpuSByPid ? ` (CPU s per pid: ${s.cpuSByPid.map((x) => f(x)).join(', ')})` : ''}`);
  }
  if (r.errorSamples.length) lines.push(`  errors e.g. ${r.errorSamples.map((e) => JSON.stringify(e)).join('; ')}`);
  return lines.join('\n');
}
