// MVCC storage benchmarks (run by hand: `npx tsx bench/storage-mvcc.ts [--keys 1000000]`).
//   1. 100,000 puts of 256-byte values, one write txn (raft entry) each: apply time, then until durable.
//   2. ranges: single key at the current revision, 100-key prefix, single key at an old revision.
//   3. watch fan-out: 1,000 watchers on one key, puts until every watcher received every event.
//   4. a store with --keys keys (default 1,000,000) reopened in a fresh process: rebuild time and RSS;
//      then its key index image written (as a graceful stop does), and a second fresh process opening
//      the store from that image. By hand on a kept store: `... fill DIR --keys N`, `... reopen DIR [IMAGE]`
//      (with IMAGE: open from it if it exists, else write it after the scan).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backend } from '../src/backend/index.js';
import { KvStore } from '../src/mvcc/index.js';
import { fileExists, readChunks, writeChunksDurable } from '../src/platform/fs.js';

const value = Buffer.alloc(256, 0x61);
const key = (i: number) => Buffer.from(`/registry/pods/ns-${i % 100}/pod-${String(i).padStart(8, '0')}`);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function puts(dir: string): Promise<void> {
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend);
  const n = 100_000;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let yields = 0;
  for (let i = 1; i <= n; i++) {
    kv.put(i, { key: key(i), value });
    // the raft loop yields between Ready batches; let the backend flush meanwhile
    if (i % 1000 === 0) {
      const y = process.hrtime.bigint();
      await new Promise((r) => setImmediate(r));
      yields += ms(y);
    }
  }
  const applied = ms(t0);
  const cpu = process.cpuUsage(cpu0);
  await backend.commit();
  console.log(`puts: ${n} x 256 B applied in ${applied.toFixed(0)} ms (${((n / applied) * 1000).toFixed(0)}/s; ${yields.toFixed(0)} ms of it yielded to flushes; CPU ${(cpu.user / 1000).toFixed(0)} ms user, ${(cpu.system / 1000).toFixed(0)} ms system, all threads), durable after ${ms(t0).toFixed(0)} ms`);

  let t = process.hrtime.bigint();
  const reads = 100_000;
  for (let i = 1; i <= reads; i++) kv.range(key(i), undefined, {});
  console.log(`range single key (current rev): ${((ms(t) * 1000) / reads).toFixed(2)} µs/op`);
  t = process.hrtime.bigint();
  const prefix = Buffer.from('/registry/pods/ns-7/pod-0000');
  const end = Buffer.from('/registry/pods/ns-7/pod-0001');
  let got = 0;
  for (let i = 0; i < 1000; i++) got = kv.range(prefix, end, {}).kvs.length;
  console.log(`range ${got} keys (prefix): ${(ms(t) / 1000).toFixed(3)} ms/op`);
  for (let i = 1; i <= 1000; i++) kv.put(n + i, { key: key(i), value });
  t = process.hrtime.bigint();
  for (let i = 1; i <= 1000; i++) kv.range(key(i), undefined, { revision: n });
  console.log(`range single key (old rev, from LevelDB): ${(ms(t) / 1000 * 1000).toFixed(2)} µs/op`);
  await backend.close();
}

async function fanout(dir: string): Promise<void> {
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend);
  const watchers = 1000;
  const events = 100;
  const streams = Array.from({ length: 10 }, () => kv.watchStream());
  for (let i = 0; i < watchers; i++) streams[i % 10]!.watch({ key: Buffer.from('hot') });
  const t0 = process.hrtime.bigint();
  const consumers = streams.map(async (s) => {
    let n = 0;
    while (n < (watchers / 10) * events) n += (await s.next())!.events.length;
  });
  for (let i = 1; i <= events; i++) {
    kv.put(i, { key: Buffer.from('hot'), value });
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(consumers);
  const took = ms(t0);
  console.log(`watch fan-out: ${events} puts x ${watchers} watchers = ${watchers * events} events in ${took.toFixed(0)} ms (${((watchers * events) / took * 1000).toFixed(0)} events/s)`);
  for (const s of streams) s.close();
  await backend.close();
}

async function fill(dir: string, keys: number): Promise<void> {
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend);
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= keys; i++) {
    kv.put(i, { key: key(i), value });
    if (i % 20_000 === 0) await backend.commit({ sync: false });
  }
  await backend.close();
  console.log(`filled ${keys} keys in ${ms(t0).toFixed(0)} ms; db ${(backend.size() / 1e6).toFixed(0)} MB`);
}

/** Open the store (from `image` when that file exists, else by a scan, then write `image` if given). */
async function reopen(dir: string, image?: string): Promise<void> {
  const fromImage = image !== undefined && (await fileExists(image));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend, { image: fromImage ? readChunks(image, true) : undefined });
  const took = ms(t0);
  const cpu = process.cpuUsage(cpu0);
  global.gc?.();
  const rss = process.memoryUsage().rss;
  const mu = process.memoryUsage();
  console.log(`heap used ${(mu.heapUsed / 1e6).toFixed(0)} MB, heap total ${(mu.heapTotal / 1e6).toFixed(0)} MB, external ${(mu.external / 1e6).toFixed(0)} MB`);
  const how = fromImage ? 'loaded from the image' : 'rebuilt by a scan';
  console.log(`reopen: ${kv.indexedKeys()} keys, rev ${kv.rev()}, index ${how} in ${took.toFixed(0)} ms (CPU: ${(cpu.user / 1000).toFixed(0)} ms user, ${(cpu.system / 1000).toFixed(0)} ms system, all threads), RSS ${(rss / 1e6).toFixed(0)} MB`);
  if (image !== undefined && !fromImage) {
    const t1 = process.hrtime.bigint();
    await writeChunksDurable(image, kv.image());
    console.log(`key index image written (fdatasync'ed) in ${ms(t1).toFixed(0)} ms`);
  }
  await backend.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keysArg = args.indexOf('--keys');
  const keys = keysArg >= 0 ? Number(args[keysArg + 1]) : 1_000_000;
  if (args[0] === 'reopen') return reopen(args[1]!, args[2]);
  if (args[0] === 'fill') return fill(args[1]!, keys);
  const root = await mkdtemp(join(tmpdir(), 'bench-mvcc-'));
  try {
    await puts(join(root, 'puts'));
    await fanout(join(root, 'fanout'));
    await fill(join(root, 'big'), keys);
    const self = fileURLToPath(import.meta.url);
    const image = join(root, 'keyindex');
    for (let i = 0; i < 2; i++) spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, 'reopen', join(root, 'big'), image], { stdio: 'inherit' });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
