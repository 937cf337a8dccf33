// Damage the files of a closed WAL (truncation, bit flips, torn writes) and check that open either
// repairs the tail and returns exactly the records that survived, or refuses with a clear error.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../../src/raft/types.js';
import { WAL, WalCorruptError, WalSnapshotError } from '../../../src/wal/index.js';
import { makeEntries, plain, randInt, rng, tempDir } from './helpers.js';

const meta = { memberId: 1n, clusterId: 2n };
const HEADER_RECORDS_BYTES = 16 + 28 + 28; // crc, metadata, snapshot marker {0,0}
const BIG = 128 * 1024;

interface Rec {
  end: number;
  entry?: Entry;
  state?: HardState;
}

let root: string;
beforeAll(async () => {
  root = await tempDir();
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

let n = 0;
const freshDir = async (): Promise<string> => path.join(root, `w${n++}`);

/** Writes `saves` batches into one segment; returns the record ends computed from the format's sizes. */
async function buildOneSegment(walDir: string, seed: number, saves: number, lastBatch = 3): Promise<{ recs: Rec[]; file: string; lastSaveStart: number }> {
  const r = rng(seed);
  const wal = await WAL.create(walDir, meta, { segmentBytes: BIG });
  const recs: Rec[] = [];
  let pos = HEADER_RECORDS_BYTES;
  let index = 1;
  let lastSaveStart = pos;
  for (let s = 0; s < saves; s++) {
    lastSaveStart = pos;
    const batch = makeEntries(r, index, s === saves - 1 ? lastBatch : randInt(r, 1, 4), 1);
    index += batch.length;
    const hs = { term: 1, vote: 1n, commit: index - 2 };
    await wal.save(hs, batch);
    for (const e of batch) recs.push({ end: (pos += 12 + 17 + e.data.length), entry: e });
    recs.push({ end: (pos += 12 + 24), state: hs });
  }
  await wal.close();
  return { recs, file: path.join(walDir, '0000000000000000-0000000000000000.wal'), lastSaveStart };
}

/** What open must return if every record ending at or before `cut` survived and nothing after it. */
function survivors(recs: Rec[], cut: number): { entries: Entry[]; hardState: HardState } {
  const kept = recs.filter((x) => x.end <= cut);
  const states = kept.filter((x) => x.state);
  return {
    entries: kept.flatMap((x) => (x.entry ? [x.entry] : [])),
    hardState: states.length ? states[states.length - 1]!.state! : { term: 0, vote: 0n, commit: 0 },
  };
}

async function openAll(walDir: string): Promise<Awaited<ReturnType<typeof WAL.open>>> {
  return WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: BIG });
}

describe('WAL damage handling', () => {
  it('truncation at random offsets: the tail is repaired to exactly the whole records before the cut', async () => {
    const walDir = await freshDir();
    const { recs, file } = await buildOneSegment(walDir, 11, 30);
    const original = await fs.readFile(file);
    const r = rng(12);
    const dataEnd = recs[recs.length - 1]!.end;
    for (let trial = 0; trial < 25; trial++) {
      const cut = trial === 0 ? 40 : randInt(r, HEADER_RECORDS_BYTES, dataEnd);
      await fs.writeFile(file, original.subarray(0, cut));
      if (cut < HEADER_RECORDS_BYTES) {
        await expect(openAll(walDir)).rejects.toSatisfy((e) => e instanceof WalCorruptError || e instanceof WalSnapshotError);
        continue;
      }
      const got = await openAll(walDir);
      const want = survivors(recs, cut);
      expect(plain(got.entries), `cut ${cut}`).toEqual(plain(want.entries));
      expect(got.hardState).toEqual(want.hardState);
      // the repaired log accepts new writes right after the survivors
      const next = makeEntries(r, want.entries.length + 1, 1, 2);
      await got.wal.save({ term: 2, vote: 1n, commit: 0 }, next);
      await got.wal.close();
      const again = await openAll(walDir);
      expect(plain(again.entries)).toEqual(plain([...want.entries, ...next]));
      await again.wal.close();
    }
  });

  it('a torn last write (a sector of it never written) is repaired; the records before it are kept', async () => {
    const walDir = await freshDir();
    const { recs, file, lastSaveStart } = await buildOneSegment(walDir, 21, 10, 24);
    const original = await fs.readFile(file);
    const dataEnd = recs[recs.length - 1]!.end;
    const firstSector = Math.floor(lastSaveStart / 512);
    const lastSector = Math.floor((dataEnd - 1) / 512);
    expect(lastSector - firstSector).toBeGreaterThan(2);
    for (let s = firstSector; s <= lastSector; s++) {
      const torn = Buffer.from(original);
      const from = Math.max(s * 512, lastSaveStart);
      torn.fill(0, from, (s + 1) * 512); // the sector keeps its old content: durable bytes, then zeros
      await fs.writeFile(file, torn);
      const got = await openAll(walDir);
      const want = survivors(recs, from);
      expect(plain(got.entries), `sector ${s}`).toEqual(plain(want.entries));
      expect(got.hardState).toEqual(want.hardState);
      await got.wal.close();
      const repaired = await fs.readFile(file);
      const keptEnd = recs.filter((x) => x.end <= from).pop()!.end;
      expect(repaired.subarray(keptEnd).every((b) => b === 0)).toBe(true);
    }
  });

  it('random bit flips: corruption inside the log is refused naming file and offset; flips past its end are repaired', async () => {
    const walDir = await freshDir();
    const r = rng(31);
    const wal = await WAL.create(walDir, meta, { segmentBytes: 4096 });
    const all: Entry[] = [];
    for (let i = 0; i < 40; i++) {
      const batch = makeEntries(r, all.length + 1, randInt(r, 1, 5), 1);
      all.push(...batch);
      await wal.save({ term: 1, vote: 1n, commit: all.length - 1 }, batch);
    }
    await wal.close();
    const names = (await fs.readdir(walDir)).filter((x) => x.endsWith('.wal')).sort();
    expect(names.length).toBeGreaterThan(3);
    const originals = await Promise.all(names.map((x) => fs.readFile(path.join(walDir, x))));
    const ends = originals.map((b) => b.length - [...b].reverse().findIndex((x) => x !== 0));
    let refused = 0;
    let repaired = 0;
    for (let trial = 0; trial < 60; trial++) {
      const inLog = trial % 3 !== 0;
      const f = inLog ? randInt(r, 0, names.length - 1) : names.length - 1;
      const pastEnd = trial === 0 ? ends[f]! : randInt(r, ends[f]!, originals[f]!.length - 1); // trial 0: where the next header goes
      const at = inLog ? randInt(r, 0, ends[f]! - 1) : pastEnd;
      const bad = Buffer.from(originals[f]!);
      bad[at]! ^= 1 << randInt(r, 0, 7);
      const file = path.join(walDir, names[f]!);
      await fs.writeFile(file, bad);
      if (at < ends[f]!) {
        const err = await openAll(walDir).then(
          async (g) => (await g.wal.close(), undefined),
          (e: unknown) => e,
        );
        expect(err, `file ${f} offset ${at}`).toBeInstanceOf(WalCorruptError);
        expect((err as WalCorruptError).file).toBe(file);
        expect((err as WalCorruptError).offset).toBeLessThanOrEqual(at);
        expect((err as Error).message).toContain(names[f]);
        refused++;
      } else {
        const got = await openAll(walDir);
        expect(plain(got.entries)).toEqual(plain(all));
        await got.wal.close();
        expect((await fs.readFile(file)).subarray(ends[f]!).every((b) => b === 0)).toBe(true);
        repaired++;
      }
      await fs.writeFile(file, originals[f]!);
    }
    expect(refused).toBe(40);
    expect(repaired).toBe(20);
  });

  it('a missing middle segment is refused', async () => {
    const walDir = await freshDir();
    const r = rng(41);
    const wal = await WAL.create(walDir, meta, { segmentBytes: 2048 });
    for (let i = 0; i < 20; i++) await wal.save({ term: 1, vote: 1n, commit: 0 }, makeEntries(r, i * 4 + 1, 4, 1));
    await wal.close();
    const names = (await fs.readdir(walDir)).filter((x) => x.endsWith('.wal')).sort();
    await fs.rm(path.join(walDir, names[1]!));
    await expect(openAll(walDir)).rejects.toThrow(/segment is missing/);
  });
});
