/*
 * WAL benchmark: sequential fsync'ed saves (batches of 1, 10, 100, 1000 entries) against the raw
 * synchronous-write floor of this disk (`dd if=/dev/zero of=X bs=512 count=1000 oflag=dsync`, and the
 * same 512-byte O_DSYNC pwrite issued from Node into a preallocated file).
 *
 *   npx tsx bench/storage-wal.ts [--value-bytes 256] [--rounds 3]
 *
 * Prints a markdown table (docs/benchmarks.md, "WAL"). Numbers are as measured, on a shared machine.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { constants as C } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EntryType, type Entry } from '../src/raft/types.js';
import { WAL, type WalSyncMode } from '../src/wal/index.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const VALUE_BYTES = arg('value-bytes', 256);
const ROUNDS = arg('rounds', 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** dd's per-write latency (µs): 1000 appending 512-byte O_DSYNC writes. */
function ddFloor(dir: string, count = 1000): number {
  const r = execFileSync('sh', ['-c', `dd if=/dev/zero of=${path.join(dir, 'dd.out')} bs=512 count=${count} oflag=dsync 2>&1`]).toString();
  const m = /copied, ([0-9.]+) s/.exec(r);
  if (!m) throw new Error(`cannot parse dd output: ${r}`);
  return (Number(m[1]) * 1e6) / count;
}

/** Node's floor: 512-byte pwrites through an O_DSYNC handle into a zero-filled file (µs per write). */
async function nodeFloor(dir: string, n = 1000): Promise<number> {
  const file = path.join(dir, 'node-floor.out');
  await fs.writeFile(file, Buffer.alloc(n * 512));
  const fh = await fs.open(file, C.O_RDWR | C.O_DSYNC);
  const buf = Buffer.alloc(512, 1);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fh.write(buf, 0, 512, i * 512);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  await fh.close();
  return us;
}

function entries(first: number, count: number): Entry[] {
  const data = Buffer.alloc(VALUE_BYTES, 0x61);
  return Array.from({ length: count }, (_, i) => ({ index: first + i, term: 1, type: EntryType.EntryNormal, data }));
}

interface Result {
  /** dd's µs per write measured just before this run (the load on the shared disk changes fast). */
  ddUs: number;
  batch: number;
  mode: WalSyncMode;
  saves: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  entriesPerSec: number;
}

async function walRun(dir: string, batch: number, mode: WalSyncMode): Promise<Result> {
  const walDir = path.join(dir, `wal-${batch}-${mode}`);
  const wal = await WAL.create(walDir, { memberId: 1n, clusterId: 1n }, { syncMode: mode });
  const saves = Math.max(30, Math.min(300, Math.floor(20000 / batch)));
  const ddUs = ddFloor(dir, 300);
  const lat: number[] = [];
  let index = 1;
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < saves; s++) {
    const ents = entries(index, batch);
    const ts = process.hrtime.bigint();
    await wal.save({ term: 1, vote: 1n, commit: index - 1 }, ents);
    lat.push(Number(process.hrtime.bigint() - ts) / 1e3);
    index += batch;
  }
  const totalUs = Number(process.hrtime.bigint() - t0) / 1e3;
  await wal.close();
  await fs.rm(walDir, { recursive: true, force: true });
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  return { ddUs, batch, mode, saves, meanUs: mean, p50Us: median(lat), p99Us: pct(lat, 0.99), entriesPerSec: (batch * saves) / (totalUs / 1e6) };
}

/** A dsync WAL whose tail is the second segment: preallocated with written zeros (not sparse). */
async function zeroFilledTail(walDir: string): Promise<{ wal: WAL; next: number }> {
  const wal = await WAL.create(walDir, { memberId: 1n, clusterId: 1n }, { segmentBytes: 8_000_000 });
  const big = Buffer.alloc(1 << 20, 0x62);
  let index = 1;
  for (; index <= 8; index++) await wal.save(undefined, [{ index, term: 1, type: EntryType.EntryNormal, data: big }]);
  return { wal, next: index };
}

/**
 * Interleaved: a raw 512-byte O_DSYNC append to a truncated file (dd's pattern, from Node), a raw
 * 512-byte O_DSYNC overwrite of a zero-filled file (the floor for a preallocated log), the same with
 * as many bytes as one WAL save writes (what is left is the WAL's own cost), a save on a
 * dsync WAL and one on an fdatasync WAL (both in their sparse first segment), and one on a dsync WAL
 * in a zero-filled segment, in turn, so that all see the same disk load. Returns medians.
 */
async function interleaved(dir: string, batch: number, n: number): Promise<{ raw: number; over: number; sameBytes: number; dsync: number; fdatasync: number; zeroFilled: number }> {
  const raw = await fs.open(path.join(dir, `raw-${batch}.out`), C.O_RDWR | C.O_CREAT | C.O_TRUNC | C.O_DSYNC);
  await fs.writeFile(path.join(dir, `over-${batch}.out`), Buffer.alloc(n * 512));
  const over = await fs.open(path.join(dir, `over-${batch}.out`), C.O_RDWR | C.O_DSYNC);
  const saveBytes = batch * (12 + 17 + VALUE_BYTES) + 12 + 24; // what one WAL save writes
  await fs.writeFile(path.join(dir, `same-${batch}.out`), Buffer.alloc(n * saveBytes));
  const same = await fs.open(path.join(dir, `same-${batch}.out`), C.O_RDWR | C.O_DSYNC);
  const sameBlock = Buffer.alloc(saveBytes, 1);
  const a = await WAL.create(path.join(dir, `ia-${batch}`), { memberId: 1n, clusterId: 1n }, { syncMode: 'dsync' });
  const b = await WAL.create(path.join(dir, `ib-${batch}`), { memberId: 1n, clusterId: 1n }, { syncMode: 'fdatasync' });
  const c = await zeroFilledTail(path.join(dir, `ic-${batch}`));
  const lat = { raw: [] as number[], over: [] as number[], sameBytes: [] as number[], dsync: [] as number[], fdatasync: [] as number[], zeroFilled: [] as number[] };
  const block = Buffer.alloc(512, 1);
  const time = async (into: number[], op: () => Promise<unknown>): Promise<void> => {
    const t = process.hrtime.bigint();
    await op();
    into.push(Number(process.hrtime.bigint() - t) / 1e3);
  };
  for (let i = 0; i < n; i++) {
    const ents = entries(i * batch + 1, batch);
    const hs = { term: 1, vote: 1n, commit: i * batch };
    await time(lat.raw, () => raw.write(block, 0, 512, i * 512));
    await time(lat.over, () => over.write(block, 0, 512, i * 512));
    await time(lat.sameBytes, () => same.write(sameBlock, 0, saveBytes, i * saveBytes));
    await time(lat.dsync, () => a.save(hs, ents));
    await time(lat.fdatasync, () => b.save(hs, ents));
    await time(lat.zeroFilled, () => c.wal.save(hs, entries(c.next + i * batch, batch)));
  }
  await raw.close();
  await over.close();
  await same.close();
  await a.close();
  await b.close();
  await c.wal.close();
  return { raw: median(lat.raw), over: median(lat.over), sameBytes: median(lat.sameBytes), dsync: median(lat.dsync), fdatasync: median(lat.fdatasync), zeroFilled: median(lat.zeroFilled) };
}

/** Runs the whole WAL benchmark and prints its tables (for bench/index.ts too). */
export async function runWalBench(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-wal-'));
  try {
    const dd: number[] = [];
    const nodeF: number[] = [];
    const results = new Map<string, Result[]>();
    for (let round = 0; round < ROUNDS; round++) {
      dd.push(ddFloor(dir));
      nodeF.push(await nodeFloor(dir));
      for (const mode of ['dsync', 'fdatasync'] as const) {
        for (const batch of [1, 10, 100, 1000]) {
          const r = await walRun(dir, batch, mode);
          const k = `${mode}/${batch}`;
          results.set(k, [...(results.get(k) ?? []), r]);
        }
      }
    }
    dd.push(ddFloor(dir));
    console.log(`value bytes ${VALUE_BYTES}; ${ROUNDS} rounds, median of rounds shown; ${os.cpus().length} cores shared with other jobs`);
    console.log(`dd bs=512 count=1000 oflag=dsync: ${dd.map((x) => x.toFixed(0)).join(', ')} µs/write`);
    console.log(`node O_DSYNC 512-byte pwrite (preallocated file): ${nodeF.map((x) => x.toFixed(0)).join(', ')} µs/write\n`);
    console.log('| sync mode | entries/save | saves | dd µs/write (just before) | mean µs/save | p50 µs | p99 µs | mean / dd | entries/s |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const [k, rs] of results) {
      const [mode, batch] = k.split('/');
      const m = (f: (r: Result) => number): number => median(rs.map(f));
      const cells = [m((r) => r.ddUs), m((r) => r.meanUs), m((r) => r.p50Us), m((r) => r.p99Us)].map((x) => x.toFixed(0));
      console.log(`| ${mode} | ${batch} | ${rs[0]!.saves} | ${cells.join(' | ')} | ${m((r) => r.meanUs / r.ddUs).toFixed(2)}x | ${m((r) => r.entriesPerSec).toFixed(0)} |`);
    }
    console.log('\nInterleaved (same moments on the disk), medians in µs:\n');
    console.log('| entries/save | raw append (dd) | raw overwrite | raw overwrite, same bytes | WAL dsync | WAL fdatasync | WAL dsync, zero-filled | dsync / append | dsync / overwrite | zero-filled / same bytes |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const batch of [1, 10, 100, 1000]) {
      const r = await interleaved(dir, batch, batch >= 1000 ? 60 : 300);
      const cells = [r.raw, r.over, r.sameBytes, r.dsync, r.fdatasync, r.zeroFilled].map((x) => x.toFixed(0)).join(' | ');
      const ratios = [r.dsync / r.raw, r.dsync / r.over, r.zeroFilled / r.sameBytes].map((x) => `${x.toFixed(2)}x`).join(' | ');
      console.log(`| ${batch} | ${cells} | ${ratios} |`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runWalBench();
