// The v2 API speed check (issue 5): GET and PUT on /v2/keys with 64 keep-alive connections and 64
// clients, against a fresh member of ours and a fresh real etcd 3.4 (--enable-v2) on this machine,
// run one after the other (never at the same time: they share the cores). Targets: ours ≥ 1.0x
// etcd's requests/s for GET and ≥ 0.8x for PUT.
//
//   npx tsx bench/v2.ts [--total 20000] [--rounds 1] [--val-size 8] [--key-space 1000]
//
// ETCD_TS_MAIN (see bench/lib/daemons.ts) picks another build of ours.
import { Command } from 'commander';
import { startDaemon, type Daemon, type Impl } from './lib/daemons.js';
import { runBench } from './lib/run.js';
import type { BenchOptions, BenchResult } from './lib/types.js';

const CONNS = 64;
const CLIENTS = 64;
const TARGET: Record<'v2-get' | 'v2-put', number> = { 'v2-get': 1.0, 'v2-put': 0.8 };

interface Figures { reqPerS: number; p50: number; p99: number; errors: number }

function options(c: 'v2-get' | 'v2-put', endpoint: string, total: number, valSize: number, keySpace: number, pid: number): BenchOptions {
  return {
    case: c, endpoints: [endpoint], conns: CONNS, clients: CLIENTS, total, keySize: 8, valSize, keySpace,
    sequentialKeys: false, consistency: 'l', watchers: 0, watchStreams: 1, putRate: 0, workers: 0, pid,
  };
}

async function measure(impl: Impl, total: number, valSize: number, keySpace: number): Promise<Record<string, Figures>> {
  const d: Daemon = await startDaemon(impl);
  const out: Record<string, Figures> = {};
  try {
    for (const c of ['v2-put', 'v2-get'] as const) {
      const r: BenchResult = await runBench(options(c, d.endpoint, total, valSize, keySpace, d.pid));
      out[c] = { reqPerS: r.reqPerS, p50: r.latencyMs.p50, p99: r.latencyMs.p99, errors: r.errors };
      if (r.errors > 0) console.error(`${impl} ${c}: ${r.errors} errors, e.g. ${r.errorSamples.slice(0, 3).join(' | ')}`);
    }
  } finally {
    await d.stop();
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const p = new Command('bench-v2').option('--total <n>', 'requests per case', '20000').option('--rounds <n>', 'rounds (best kept)', '1')
    .option('--val-size <b>', 'value bytes', '8').option('--key-space <n>', 'distinct keys', '1000');
  p.parse(argv, { from: 'user' });
  const o = p.opts();
  const [total, rounds, valSize, keySpace] = [Number(o.total), Number(o.rounds), Number(o.valSize), Number(o.keySpace)];
  const best: Record<Impl, Record<string, Figures>> = { ours: {}, etcd: {} };
  for (let i = 0; i < rounds; i++) {
    for (const impl of ['etcd', 'ours'] as const) {
      const r = await measure(impl, total, valSize, keySpace);
      for (const [c, f] of Object.entries(r)) if (!best[impl][c] || f.reqPerS > best[impl][c]!.reqPerS) best[impl][c] = f;
    }
  }
  console.log(`v2 API, ${CONNS} connections, ${CLIENTS} clients, ${total} requests per case, ${valSize}-byte values, ${keySpace} keys`);
  console.log('case     ours req/s  etcd req/s  ratio  target  ours p50/p99 ms  etcd p50/p99 ms');
  let ok = true;
  for (const c of ['v2-get', 'v2-put'] as const) {
    const a = best.ours[c]!;
    const b = best.etcd[c]!;
    const ratio = a.reqPerS / b.reqPerS;
    if (!(ratio >= TARGET[c])) ok = false;
    console.log(`${c.padEnd(8)} ${a.reqPerS.toFixed(0).padStart(10)}  ${b.reqPerS.toFixed(0).padStart(10)}  ${ratio.toFixed(2).padStart(5)}  ` +
      `${TARGET[c].toFixed(1).padStart(6)}  ${a.p50.toFixed(2)}/${a.p99.toFixed(2)}`.padEnd(14) + `     ${b.p50.toFixed(2)}/${b.p99.toFixed(2)}`);
  }
  console.log(ok ? 'targets met' : 'targets NOT met');
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
