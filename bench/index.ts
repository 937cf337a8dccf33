// The load generator and the side-by-side comparison with real etcd (issue 6).
//
//   npm run bench -- --endpoints 127.0.0.1:2379 [--conns N --clients N --total N --key-size B
//       --val-size B --key-space N --sequential-keys --consistency l|s --watchers N --watch-streams N
//       --put-rate N --watch-grace MS --workers N --pid PID[,PID...] --driver node|wrk|etcd --duration S --json FILE] <case>
//   npm run bench:compare -- [--rounds 3 --scale 1 --only case,case --json FILE --cluster]
//
// Cases: put, range, txn-put, watch, lease-keepalive, v2-get, v2-put (and `raft`, the in-process
// consensus benchmark of bench/raft.ts). Clients are spread over worker threads (lib/run.ts); the
// report gives requests/s, latency avg/p50/p90/p99/max in ms, errors, the generator's own CPU and,
// with --pid, the server's CPU seconds and peak RSS over the run (several pids: summed). `--json FILE`
// writes the result.
import { Command, InvalidArgumentError } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCompare } from './lib/compare.js';
import { describeRun, formatResult } from './lib/report.js';
import { runBench } from './lib/run.js';
import { WRK_DEFAULT_DURATION_S } from './lib/wrk.js';
import { CASES, type BenchOptions, type CaseName } from './lib/types.js';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer');
  return n;
};

const pids = (v: string): number | number[] => {
  const xs = v.split(',').map(int);
  return xs.length === 1 ? xs[0]! : xs;
};

/** Parse `bench` arguments into options (exported for the smoke test). */
export function parseBenchArgs(argv: string[]): { opts: BenchOptions; json?: string } {
  const p = new Command('bench').exitOverride().argument('<case>', `one of ${CASES.join(', ')}`)
    .option('--endpoints <list>', 'host:port[,host:port...]', '127.0.0.1:2379')
    .option('--conns <n>', 'gRPC connections (HTTP keep-alive sockets for v2)', int, 1)
    .option('--clients <n>', 'concurrent clients', int, 1)
    .option('--total <n>', 'requests (watch: puts)', int, 10_000)
    .option('--key-size <b>', 'key bytes', int, 8)
    .option('--val-size <b>', 'value bytes', int, 8)
    .option('--key-space <n>', 'distinct keys', int, 1)
    .option('--sequential-keys', 'keys 0,1,2,... instead of random', false)
    .option('--consistency <c>', 'range: l (linearizable) or s (serializable)', 'l')
    .option('--watchers <n>', 'watch: watchers on the key', int, 1)
    .option('--watch-streams <n>', 'watch: streams the watchers share (default min(watchers, 100))', int)
    .option('--put-rate <n>', 'watch: puts per second, 0 for back to back', int, 100)
    .option('--watch-grace <ms>', 'watch: wait this long after the last put for missing events', int, 10_000)
    .option('--workers <n>', 'worker threads (0: choose)', int, 0)
    .option('--pid <pids>', "the server's pid, for its CPU and RSS (pid,pid,...: a cluster's members, summed)", pids)
    .option('--driver <d>', 'node (clients in worker threads), wrk (/usr/bin/wrk, v2 cases) or etcd (etcd\'s benchmark tool: put, txn-put, range)', 'node')
    .option('--duration <s>', 'wrk driver: seconds to run (instead of --total)', int, WRK_DEFAULT_DURATION_S)
    .option('--json <file>', 'also write the result as JSON');
  p.parse(argv, { from: 'user' });
  const c = p.opts();
  const name = p.args[0] as CaseName;
  if (!CASES.includes(name)) throw new Error(`unknown case ${name}: one of ${CASES.join(', ')}`);
  if (c.consistency !== 'l' && c.consistency !== 's') throw new Error('--consistency is l or s');
  if (c.driver !== 'node' && c.driver !== 'wrk' && c.driver !== 'etcd') throw new Error('--driver is node, wrk or etcd');
  const opts: BenchOptions = {
    case: name, endpoints: String(c.endpoints).split(',').map((s) => s.replace(/^https?:\/\//, '')),
    conns: Math.max(1, c.conns), clients: Math.max(1, c.clients), total: c.total, keySize: c.keySize, valSize: c.valSize,
    keySpace: Math.max(1, c.keySpace), sequentialKeys: c.sequentialKeys, consistency: c.consistency, watchers: c.watchers,
    watchStreams: Math.max(1, c.watchStreams ?? Math.min(Math.max(c.watchers, 1), 100)), putRate: c.putRate, watchGraceMs: c.watchGrace,
    workers: c.workers, pid: c.pid, driver: c.driver, durationS: c.duration,
  };
  return { opts, json: c.json };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'compare') return runCompare(argv.slice(1));
  if (argv.includes('raft')) {
    const { runRaftBench } = await import('./raft.js');
    for (const r of runRaftBench()) console.log(`raft batch ${r.batch} (${r.mode}): ${Math.round(r.entriesPerSec)} entries/s`);
    return 0;
  }
  const { opts, json } = parseBenchArgs(argv);
  console.log(describeRun(opts));
  const r = await runBench(opts);
  console.log(formatResult(r));
  if (json) writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
