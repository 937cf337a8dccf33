/*
 * The WAL's hot path alone: a loop of save(hardState, [one entry]) as the Ready loop issues them, in
 * the four ways the server can (inline or through the thread pool; flushed by the O_DSYNC write, or
 * not flushed at all, which leaves only the CPU cost of encoding and issuing the write).
 *
 *   npx tsx bench/wal-save-loop.ts [--saves 2000] [--rounds 3] [--only dsync|nosync] [--src ../src]
 *
 * --src points at another copy of src/ (e.g. an export of an older commit: `git archive <rev> src |
 * tar -x -C /tmp/old`, placed where node_modules resolves) to compare two versions. Prints wall-clock
 * and CPU (this process's user + system) µs per save, min and median over rounds, for each way; on a
 * shared machine the CPU figures and the minimums are the steadier ones.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SAVES = Number(arg('saves', '2000'));
const ROUNDS = Number(arg('rounds', '3'));
const ONLY = arg('only', '');
const SRC = path.resolve(arg('src', path.join(import.meta.dirname, '..', 'src')));

interface WalLike {
  save(hs: unknown, entries: unknown[], mustSync?: boolean, inline?: boolean): Promise<void>;
  close(): Promise<void>;
}
interface WalModule {
  WAL: { create(dir: string, meta: unknown, opts: unknown): Promise<WalLike> };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall-clock and CPU (user + system of this process) µs per save. */
async function run(mod: WalModule, dir: string, mustSync: boolean, inline: boolean): Promise<[number, number]> {
  const walDir = path.join(dir, `wal-${mustSync}-${inline}-${Math.random().toString(36).slice(2)}`);
  const wal = await mod.WAL.create(walDir, { memberId: 1n, clusterId: 1n }, { segmentBytes: 64_000_000 });
  const data = Buffer.alloc(256, 0x61);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 1; i <= SAVES; i++) {
    await wal.save({ term: 1, vote: 1n, commit: i - 1 }, [{ index: i, term: 1, type: 0, data }], mustSync, inline);
  }
  const cpu = process.cpuUsage(cpu0);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / SAVES;
  await wal.close();
  await fs.rm(walDir, { recursive: true, force: true });
  return [us, (cpu.user + cpu.system) / SAVES];
}

async function main(): Promise<void> {
  const mod = (await import(pathToFileURL(path.join(SRC, 'wal', 'index.ts')).href)) as WalModule;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wal-save-loop-'));
  const ways: Array<[string, boolean, boolean]> = [
    ['dsync inline', true, true],
    ['dsync pool', true, false],
    ['no sync inline', false, true],
    ['no sync pool', false, false],
  ];
  const results = new Map<string, number[]>();
  const cpus = new Map<string, number[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, mustSync, inline] of ways) {
      if ((ONLY === 'dsync' && !mustSync) || (ONLY === 'nosync' && mustSync)) continue;
      const [us, cpu] = await run(mod, dir, mustSync, inline);
      results.set(name, [...(results.get(name) ?? []), us]);
      cpus.set(name, [...(cpus.get(name) ?? []), cpu]);
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
  console.log(`src=${SRC} saves=${SAVES} rounds=${ROUNDS}`);
  for (const [name, xs] of results) {
    const cs = cpus.get(name)!;
    console.log(`${name.padEnd(16)} wall min ${Math.min(...xs).toFixed(1)} median ${median(xs).toFixed(1)} µs/save; cpu min ${Math.min(...cs).toFixed(1)} median ${median(cs).toFixed(1)} µs/save`);
  }
}

await main();
