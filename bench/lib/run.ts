// One benchmark run: fill the keys a read case needs, split the connections, clients and requests
// over worker threads, start them together, and merge their results with the generator's own CPU
// use and (given --pid) the server's CPU seconds and peak RSS over the run.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { closeConn, connect, encodePut, rawUnary, tokenMeta } from './proto.js';
import { endUsage, startUsage, withCpuPct, type ServerUsage } from './proc.js';
import { keyOf, valueOf } from './keys.js';
import { v2Request } from './cases.js';
import { concat, summarize } from './stats.js';
import { runWrk } from './wrk.js';
import { ETCD_DRIVER_CASES, runEtcdBenchmark } from './etcd-benchmark.js';
import type { BenchOptions, BenchResult, WorkerResult, WorkerTask } from './types.js';

const PREFILL_MAX = 100_000; // keys written before a read case; a larger key space is only partly filled
const PREFILL_CONCURRENCY = 64;

/** Split n into k near-equal parts, the first n mod k parts one larger. */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** Default workers: one per 2 cores of the generator for many clients, one for a single client. */
function workerCount(o: BenchOptions): number {
  const units = o.case === 'watch' ? Math.max(1, o.watchStreams) : o.clients;
  const want = o.workers > 0 ? o.workers : units >= 8 ? Math.min(2, availableParallelism()) : 1;
  return Math.max(1, Math.min(want, units, o.case === 'watch' ? units : o.conns));
}

export function planTasks(o: BenchOptions): WorkerTask[] {
  const w = workerCount(o);
  const conns = split(Math.max(o.conns, w), w);
  const clients = split(o.clients, w);
  const totals = split(o.total, w);
  const watchers = split(o.watchers, w);
  const streams = split(Math.max(o.watchStreams, w), w);
  let connOffset = 0;
  let keyStart = 0;
  let clientStart = 0;
  return conns.map((c, i) => {
    const t: WorkerTask = {
      opts: o, index: i, conns: c, connOffset, clients: Math.max(1, clients[i]!), total: totals[i]!,
      keyStart: o.case === 'txn-put' ? clientStart : keyStart, watchers: watchers[i]!, streams: streams[i]!, putter: i === 0,
    };
    connOffset += c;
    keyStart += totals[i]!;
    clientStart += clients[i]!;
    return t;
  });
}

/** Write every key a range / v2-get run may read (the first PREFILL_MAX of the key space). */
export async function prefill(o: BenchOptions): Promise<void> {
  const n = Math.min(o.keySpace, PREFILL_MAX);
  const value = valueOf(o.valSize);
  let next = 0;
  if (o.case === 'range') {
    const conn = await connect(o.endpoints[0]!);
    const md = tokenMeta(o.token);
    const one = async (): Promise<void> => {
      while (next < n) await rawUnary(conn.kv, '/etcdserverpb.KV/Put', encodePut(keyOf(next++, o.keySize), value), md);
    };
    await Promise.all(Array.from({ length: PREFILL_CONCURRENCY }, one));
    closeConn(conn);
  } else if (o.case === 'v2-get') {
    const body = Buffer.concat([Buffer.from('value='), value]);
    const one = async (): Promise<void> => {
      while (next < n) await v2Request(undefined, o.endpoints[0]!, 'PUT', keyOf(next++, o.keySize).toString(), body).catch(() => {});
    };
    await Promise.all(Array.from({ length: Math.min(PREFILL_CONCURRENCY, 8) }, one));
  }
}

/** tsx's ESM register API, found from this file (import.meta.resolve is missing under vitest). */
function tsxApiUrl(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
}

function spawnWorker(task: WorkerTask): Worker {
  const url = new URL('./worker' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return new Worker(url, { workerData: task });
  // under tsx: register its loader inside the worker, then import the TypeScript entry
  const api = tsxApiUrl();
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(new URL('data:text/javascript,' + encodeURIComponent(boot)), { workerData: task });
}

type Msg = { type: 'ready' } | { type: 'done'; result: WorkerResult } | { type: 'failed'; stage: string; error: string } | { type: 'puts-sent' };

/** Run one case to completion; throws if a worker fails to set up or run. */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  if (o.driver === 'wrk' && o.case !== 'v2-get' && o.case !== 'v2-put') throw new Error('--driver wrk drives the v2 cases only');
  if (o.driver === 'etcd' && !ETCD_DRIVER_CASES.includes(o.case)) throw new Error(`--driver etcd drives ${ETCD_DRIVER_CASES.join(', ')} only`);
  await prefill(o);
  if (o.driver === 'wrk') return runWrk(o);
  if (o.driver === 'etcd') return runEtcdBenchmark(o);
  const tasks = planTasks(o);
  const workers = tasks.map(spawnWorker);
  const waiting = new Map<string, { n: number; resolve: () => void; reject: (e: Error) => void }>();
  const results: WorkerResult[] = [];
  const phase = (type: 'ready' | 'done'): Promise<void> =>
    new Promise((resolve, reject) => waiting.set(type, { n: workers.length, resolve, reject }));
  let failure: Error | undefined;
  workers.forEach((w) => {
    w.on('message', (m: Msg) => {
      if (m.type === 'puts-sent') return workers.forEach((x) => x.postMessage({ type: 'puts-sent' }));
      if (m.type === 'failed') {
        failure = new Error(`worker ${m.stage} failed: ${m.error}`);
        return waiting.forEach((p) => p.reject(failure!));
      }
      if (m.type === 'done') results.push(m.result);
      const p = waiting.get(m.type);
      if (p && --p.n === 0) p.resolve();
    });
    w.on('error', (e) => waiting.forEach((p) => p.reject(e)));
  });
  try {
    const ready = phase('ready');
    workers.forEach((w) => w.postMessage({ type: 'setup' }));
    await ready;
    const usage0 = startUsage(o.pid);
    const cpu0 = process.cpuUsage();
    const done = phase('done');
    workers.forEach((w) => w.postMessage({ type: 'go' }));
    await done;
    const cpu = process.cpuUsage(cpu0);
    return merge(o, results, tasks.length, (cpu.user + cpu.system) / 1e6, endUsage(usage0));
  } finally {
    for (const w of workers) {
      w.postMessage({ type: 'close' });
      setTimeout(() => void w.terminate(), 2000).unref();
    }
  }
}

function merge(o: BenchOptions, rs: WorkerResult[], workers: number, genCpuS: number,
  usage?: Omit<ServerUsage, 'cpuPct'>): BenchResult {
  const t0 = Math.min(...rs.map((r) => r.t0));
  const t1 = Math.max(...rs.map((r) => r.t1));
  const wallS = Math.max((t1 - t0) / 1000, 1e-9);
  const ok = rs.reduce((s, r) => s + r.ok, 0);
  const errors = rs.reduce((s, r) => s + r.errors, 0);
  const lat = summarize(concat(rs.map((r) => r.latencies)));
  return {
    case: o.case, total: o.total, ok, errors, errorSamples: [...new Set(rs.flatMap((r) => r.errorSamples))],
    conflicts: rs.reduce((s, r) => s + r.conflicts, 0),
    lost: Math.max(0, rs.reduce((s, r) => s + r.lost, 0) - (o.case === 'watch' ? errors * o.watchers : 0)),
    wallS, reqPerS: ok / wallS, latencyMs: lat, workers, generatorCpuS: genCpuS, generatorCpuPct: (100 * genCpuS) / wallS,
    server: withCpuPct(usage, wallS),
  };
}
