// Issue 21's prototype of "more than one core for client traffic", measured in isolation: a unary
// KV/Put server over node:http2 in one of two shapes, driven by etcd's benchmark tool.
//
//   single     one thread accepts, frames, decodes, "proposes" and answers (today's member).
//   workers N  N worker threads each listen on the same port (reusePort, Node 22.12+ / 24) and do
//              the HTTP/2 and protobuf work; each hands the raft thread (the main thread) one batch of
//              compact requests per event-loop turn over a MessagePort and gets back one batch of
//              answers (revisions), which it encodes and sends.
//
// The raft thread's own work per put (raft, WAL, mvcc, apply: what must stay on one thread) is a
// spin of --raft-us µs, so the probe shows what the split saves and what the hand-off costs, not the
// member's real numbers.
//
//   node --import tsx bench/workers-probe.ts --mode single|workers --workers 2 --raft-us 30 --total 50000
//
// Prints req/s, p50/p99 and the probe's CPU per put (all threads) as JSON.
import { spawn } from 'node:child_process';
import type * as net from 'node:net';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { parseToolOutput } from './lib/etcd-benchmark.js';
import { etcdBenchmarkBin } from './lib/etcd-benchmark.js';
import { listenNodeH2 as listen, serveStream, spin } from './lib/h2-put.js';

interface Args { mode: 'single' | 'workers'; workers: number; raftUs: number; total: number; port: number }

// ---- worker thread: HTTP/2 + protobuf, requests batched to the raft thread per event-loop turn
async function workerMain(): Promise<void> {
  const { port, raftPort } = workerData as { port: number; raftPort: MessagePort };
  const waiting = new Map<number, (rev: number) => void>();
  let nextId = 0;
  let batch: { id: number; key: Buffer; value: Buffer }[] = [];
  const flush = (): void => {
    const b = batch;
    batch = [];
    // compact: ids and the key/value bytes of each, copied into one buffer
    raftPort.postMessage({ ids: b.map((r) => r.id), kv: Buffer.concat(b.flatMap((r) => [r.key, r.value])), sizes: b.flatMap((r) => [r.key.length, r.value.length]) });
  };
  raftPort.on('message', (m: { ids: number[]; revs: number[] }) => {
    for (let i = 0; i < m.ids.length; i++) {
      const done = waiting.get(m.ids[i]!)!;
      waiting.delete(m.ids[i]!);
      done(m.revs[i]!);
    }
  });
  await listen(port, true, (s, h) => serveStream(s, h, (key, value, done) => {
    const id = nextId++;
    waiting.set(id, done);
    if (batch.length === 0) setImmediate(flush);
    batch.push({ id, key, value });
  }));
  parentPort!.postMessage('listening');
}

// ---- main thread: the "raft thread" (and, in single mode, everything)
async function runTool(a: Args): Promise<Record<string, number>> {
  const cpu0 = process.cpuUsage();
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn(etcdBenchmarkBin(), ['--endpoints', `127.0.0.1:${a.port}`, '--conns', '100', '--clients', '1000', '--precise',
      'put', '--key-size', '8', '--val-size', '256', '--sequential-keys', '--total', String(a.total)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let o = '';
    c.stdout.on('data', (d: Buffer) => (o += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`benchmark exited ${code}`))));
  });
  const cpu = process.cpuUsage(cpu0);
  const s = parseToolOutput(out);
  const ok = Math.round(s.reqPerS * s.totalS);
  return { reqPerS: Math.round(s.reqPerS), p50Ms: (s.pct.get(50) ?? NaN) * 1000, p99Ms: (s.pct.get(99) ?? NaN) * 1000,
    cpuUsPerPut: Math.round((cpu.user + cpu.system) / ok), errors: [...s.errors.values()].reduce((x, y) => x + y, 0) };
}

async function main(a: Args): Promise<void> {
  let rev = 1;
  const raftWork = (): number => {
    spin(a.raftUs);
    return ++rev;
  };
  const servers: net.Server[] = [];
  const workers: Worker[] = [];
  if (a.mode === 'single') {
    servers.push(await listen(a.port, false, (s, h) => serveStream(s, h, (_k, _v, done) => {
      // the raft loop answers in a later turn, as a proposal does
      setImmediate(() => done(raftWork()));
    })));
  } else {
    for (let i = 0; i < a.workers; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(new URL(import.meta.url), { workerData: { port: a.port, raftPort: port2 }, transferList: [port2] });
      port1.on('message', (m: { ids: number[] }) => port1.postMessage({ ids: m.ids, revs: m.ids.map(raftWork) }));
      await new Promise((r) => w.once('message', r));
      workers.push(w);
    }
  }
  const r = await runTool(a);
  console.log(JSON.stringify({ node: process.version, ...a, ...r }));
  servers.forEach((s) => s.close());
  await Promise.all(workers.map((w) => w.terminate()));
  process.exit(0);
}

function parse(argv: string[]): Args {
  const a: Args = { mode: 'single', workers: 2, raftUs: 30, total: 50_000, port: 23990 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--mode') a.mode = v === 'workers' ? 'workers' : 'single';
    else if (argv[i] === '--workers') a.workers = Number(v);
    else if (argv[i] === '--raft-us') a.raftUs = Number(v);
    else if (argv[i] === '--total') a.total = Number(v);
    else if (argv[i] === '--port') a.port = Number(v);
  }
  return a;
}

if (isMainThread) void main(parse(process.argv.slice(2)));
else void workerMain();
