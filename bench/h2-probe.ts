// Issue 21's question: what node:http2 costs per unary gRPC call, against a minimal HTTP/2 in
// JavaScript over a plain net.Socket (bench/lib/js-h2.ts). Both answer KV/Put with the same bytes
// (bench/lib/h2-put.ts); the raft thread's work per put is a spin of --raft-us µs on the next turn.
//
//   node --import tsx bench/h2-probe.ts serve --impl node|js [--raft-us 30] [--port 23990]
//   node --import tsx bench/h2-probe.ts run [--rounds 3] [--nodes PATH,PATH] [--raft-us 0,30]
//        [--loads 1000,1] [--total 40000] [--total-1 5000]
//
// `run` starts one server process per measurement (each Node binary given), ours alternating which
// implementation goes first, drives it with etcd's benchmark tool (100 conns / 1,000 clients, or
// 1 conn / 1 client) and prints one JSON line per run, then the medians: req/s, p50/p99, the server's
// CPU per put (all threads, /proc) and the tool's, and the 1-minute load average.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { runEtcdBenchmark } from './lib/etcd-benchmark.js';
import { listenNodeH2, listenOn, putAnswer, putKeyValue, PUT_PATH, serveStream, spin } from './lib/h2-put.js';
import { createJsH2Server } from './lib/js-h2.js';
import { median } from './lib/stats.js';

type Impl = 'node' | 'js';

function flag(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] ?? dflt : dflt;
}

/** The probe's server: prints "listening PORT" once it accepts. */
async function serve(impl: Impl, raftUs: number, port: number): Promise<void> {
  let rev = 1;
  const raftWork = (): number => {
    spin(raftUs);
    return ++rev;
  };
  // the raft loop answers in a later turn, as a proposal does
  const server = impl === 'node'
    ? await listenNodeH2(port, false, (s, h) => serveStream(s, h, (_k, _v, done) => setImmediate(() => done(raftWork()))))
    : await listenOn(createJsH2Server((path, message, reply) => {
      if (path !== PUT_PATH) return reply(12, undefined, 'not in the probe');
      putKeyValue(message);
      setImmediate(() => reply(0, putAnswer(raftWork())));
    }), port);
  process.on('SIGTERM', () => process.exit(0)); // a normal exit: --cpu-prof writes its profile
  const addr = server.address();
  console.log(`listening ${typeof addr === 'object' && addr ? addr.port : port}`);
}

async function startServer(node: string, impl: Impl, raftUs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(node, ['--import', 'tsx', new URL(import.meta.url).pathname, 'serve', '--impl', impl,
    '--raft-us', String(raftUs), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = /^listening (\d+)$/.exec(line);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error(`${impl} server on ${node} exited before listening`);
}

interface Row { node: string; impl: Impl; raftUs: number; clients: number; reqPerS: number; p50Ms: number; p99Ms: number;
  serverUsPerPut: number; genUsPerPut: number; load1: number; errors: number }

async function measure(node: string, impl: Impl, raftUs: number, clients: number, total: number): Promise<Row> {
  const { child, port } = await startServer(node, impl, raftUs);
  try {
    const load1 = loadavg()[0]!;
    const r = await runEtcdBenchmark({
      case: 'put', endpoints: [`127.0.0.1:${port}`], conns: clients === 1 ? 1 : 100, clients, total, keySize: 8, valSize: 256,
      keySpace: 1, sequentialKeys: true, consistency: 'l', watchers: 0, watchStreams: 0, putRate: 0, workers: 0, pid: child.pid, driver: 'etcd',
    });
    const us = (s: number | undefined): number => Math.round(((s ?? NaN) * 1e6) / r.ok);
    return { node: await nodeVersion(node), impl, raftUs, clients, reqPerS: Math.round(r.reqPerS), p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99,
      serverUsPerPut: us(r.server?.cpuS), genUsPerPut: us(r.generatorCpuS), load1: Math.round(load1 * 10) / 10, errors: r.errors };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

const versions = new Map<string, string>();
async function nodeVersion(node: string): Promise<string> {
  if (!versions.has(node)) {
    const c = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let v = '';
    c.stdout.on('data', (d: Buffer) => (v += d.toString()));
    await once(c, 'close');
    versions.set(node, v.trim());
  }
  return versions.get(node)!;
}

async function run(argv: string[]): Promise<void> {
  const rounds = Number(flag(argv, 'rounds', '3'));
  const nodes = flag(argv, 'nodes', process.execPath).split(',');
  const raft = flag(argv, 'raft-us', '0,30').split(',').map(Number);
  const loads = flag(argv, 'loads', '1000,1').split(',').map(Number);
  const total = Number(flag(argv, 'total', '40000'));
  const total1 = Number(flag(argv, 'total-1', '5000'));
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const node of nodes) for (const raftUs of raft) for (const clients of loads) {
      const order: Impl[] = round % 2 === 0 ? ['node', 'js'] : ['js', 'node'];
      for (const impl of order) {
        const row = await measure(node, impl, raftUs, clients, clients === 1 ? total1 : total);
        console.log(JSON.stringify({ round, ...row }));
        rows.push(row);
      }
    }
  }
  console.log('\n| Node | raft µs | clients | impl | req/s | p50 ms | p99 ms | server CPU µs/put | tool CPU µs/put | load |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const keys = [...new Set(rows.map((r) => `${r.node}|${r.raftUs}|${r.clients}|${r.impl}`))];
  for (const k of keys) {
    const rs = rows.filter((r) => `${r.node}|${r.raftUs}|${r.clients}|${r.impl}` === k);
    const cell = (f: (r: Row) => number, d = 0): string =>
      `${median(rs.map(f)).toFixed(d)} (${Math.min(...rs.map(f)).toFixed(d)}–${Math.max(...rs.map(f)).toFixed(d)})`;
    console.log(`| ${k.split('|').join(' | ')} | ${cell((r) => r.reqPerS)} | ${cell((r) => r.p50Ms, 2)} | ${cell((r) => r.p99Ms, 2)} | ` +
      `${cell((r) => r.serverUsPerPut)} | ${cell((r) => r.genUsPerPut)} | ${cell((r) => r.load1, 1)} |`);
  }
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'serve') {
  void serve(flag(rest, 'impl', 'js') === 'node' ? 'node' : 'js', Number(flag(rest, 'raft-us', '30')), Number(flag(rest, 'port', '23990')));
} else if (cmd === 'run') {
  run(rest).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  console.error('usage: h2-probe.ts serve --impl node|js [--raft-us N] [--port P] | run [--rounds N] [--nodes A,B] …');
  process.exit(2);
}
