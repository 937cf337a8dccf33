import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HardState } from '../../../src/raft/types.js';
import { WAL, WalSnapshotError, readWalMetadata } from '../../../src/wal/index.js';
import { nodeDisk } from '../../../src/platform/fs.js';
import { makeEntries, plain, rng, tempDir } from './helpers.js';

const meta = { memberId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n };
const hs = (term: number, commit: number): HardState => ({ term, vote: 1n, commit });
const SMALL = 4096;

let dir: string;
let walDir: string;
beforeEach(async () => {
  dir = await tempDir();
  walDir = path.join(dir, 'member', 'wal');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const segmentNames = async (): Promise<string[]> => (await fs.readdir(walDir)).filter((n) => n.endsWith('.wal')).sort();

describe('WAL', () => {
  it('creates etcd-named segment 0-0 and reads back what was saved', async () => {
    expect(await WAL.exists(walDir)).toBe(false);
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    expect(await WAL.exists(walDir)).toBe(true);
    expect(await segmentNames()).toEqual(['0000000000000000-0000000000000000.wal']);
    expect((await fs.stat(path.join(walDir, '0000000000000000-0000000000000000.wal'))).size).toBe(SMALL);
    const r = rng(1);
    const a = makeEntries(r, 1, 3, 1);
    const b = makeEntries(r, 4, 2, 1);
    await wal.save(hs(1, 0), a);
    await wal.save(hs(1, 3), b);
    await wal.close();
    const got = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SMALL });
    expect(got.metadata).toEqual(meta);
    expect(got.hardState).toEqual(hs(1, 3));
    expect(plain(got.entries)).toEqual(plain([...a, ...b]));
    await got.wal.close();
  });

  it('create refuses a directory that already holds segments', async () => {
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await wal.close();
    await expect(WAL.create(walDir, meta, { segmentBytes: SMALL })).rejects.toThrow(/already exists/);
  });

  it('an entry at an existing index replaces the suffix, as etcd (across reopen and segments)', async () => {
    const r = rng(2);
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    const first = makeEntries(r, 1, 40, 1);
    await wal.save(hs(1, 5), first);
    const second = makeEntries(r, 31, 5, 2);
    await wal.save(hs(2, 5), second);
    expect(wal.lastIndex).toBe(35);
    await wal.close();
    const got = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SMALL });
    expect(plain(got.entries)).toEqual(plain([...first.slice(0, 30), ...second]));
    await got.wal.save(undefined, makeEntries(r, 36, 1, 2));
    await got.wal.close();
    const again = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SMALL });
    expect(again.entries.map((e) => `${e.index}/${e.term}`).slice(-3)).toEqual(['34/2', '35/2', '36/2']);
    await again.wal.close();
  });

  it('cuts segments named seq-index and reads across them; releaseTo keeps the one holding the index', async () => {
    const r = rng(3);
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    const all = [];
    for (let i = 0; i < 30; i++) {
      const batch = makeEntries(r, i * 5 + 1, 5, 1);
      all.push(...batch);
      await wal.save(hs(1, i * 5), batch);
    }
    const names = await segmentNames();
    expect(names.length).toBeGreaterThan(3);
    const parsed = names.map((n) => n.split(/[-.]/).map((x) => Number.parseInt(x, 16)));
    parsed.forEach(([seq], i) => expect(seq).toBe(i));
    for (let i = 1; i < parsed.length; i++) expect(parsed[i]![1]!).toBeGreaterThan(parsed[i - 1]![1]!);
    await wal.saveSnapshot({ index: 100, term: 1 });
    await wal.releaseTo(100);
    const left = (await segmentNames()).map((n) => Number.parseInt(n.split('-')[1]!, 16));
    expect(left[0]).toBeLessThanOrEqual(100);
    expect(left.length).toBeLessThan(names.length);
    if (left.length > 1) expect(left[1]).toBeGreaterThan(100);
    await wal.close();
    await expect(WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SMALL })).rejects.toBeInstanceOf(WalSnapshotError);
    const got = await WAL.open(walDir, { index: 100, term: 1 }, { segmentBytes: SMALL });
    expect(plain(got.entries)).toEqual(plain(all.slice(100)));
    expect(got.hardState).toEqual(hs(1, 145));
    await got.wal.close();
  });

  it('open checks the caller marker: missing and term mismatch are coded errors', async () => {
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await wal.save(hs(1, 2), makeEntries(rng(4), 1, 3, 1));
    await wal.saveSnapshot({ index: 2, term: 1 });
    await wal.close();
    await expect(WAL.open(walDir, { index: 3, term: 1 })).rejects.toMatchObject({ code: 'not-found' });
    await expect(WAL.open(walDir, { index: 2, term: 9 })).rejects.toMatchObject({ code: 'mismatch' });
    const got = await WAL.open(walDir, { index: 2, term: 1 }, { segmentBytes: SMALL });
    expect(got.entries.map((e) => e.index)).toEqual([3]);
    await got.wal.close();
  });

  it('an overwrite at or before the snapshot index drops the entries beyond it written earlier', async () => {
    // A follower holds 4..6 of term 1; the term-2 leader replaces 3.., commits 3, a snapshot at 3 follows.
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await wal.save(hs(1, 2), makeEntries(rng(7), 1, 6, 1));
    await wal.save(hs(2, 2), makeEntries(rng(8), 3, 1, 2));
    await wal.save(hs(2, 3), []);
    await wal.saveSnapshot({ index: 3, term: 2 });
    await wal.close();
    const got = await WAL.open(walDir, { index: 3, term: 2 }, { segmentBytes: SMALL });
    expect(got.entries).toEqual([]);
    expect(got.wal.lastIndex).toBe(3);
    await got.wal.close();
  });

  it('snapshotMarkers lists markers up to the committed index', async () => {
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await wal.save(hs(1, 3), makeEntries(rng(5), 1, 5, 1));
    await wal.saveSnapshot({ index: 3, term: 1 });
    await wal.saveSnapshot({ index: 5, term: 1 });
    await wal.close();
    expect(await WAL.snapshotMarkers(walDir)).toEqual([{ index: 0, term: 0 }, { index: 3, term: 1 }]);
  });

  it('openAtChosen reads each segment once and opens as snapshotMarkers, then open from the chosen marker', async () => {
    const r = rng(9);
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    const all = [];
    for (let i = 0; i < 20; i++) {
      const batch = makeEntries(r, i * 5 + 1, 5, 1);
      all.push(...batch);
      await wal.save(hs(1, i * 5), batch);
      if (i === 10) await wal.saveSnapshot({ index: 40, term: 1 });
      if (i === 15) await wal.saveSnapshot({ index: 70, term: 1 });
    }
    await wal.saveSnapshot({ index: 99, term: 1 }); // beyond the commit (95): not offered
    await wal.close();
    const segments = (await segmentNames()).length;
    expect(segments).toBeGreaterThan(3);
    const reads: string[] = [];
    const disk = { ...nodeDisk, readFile: (f: string) => (reads.push(path.basename(f)), nodeDisk.readFile(f)) };
    const offered: unknown[] = [];
    const got = await WAL.openAtChosen(walDir, async (markers) => (offered.push(...markers), { index: 40, term: 1 }), { segmentBytes: SMALL, disk });
    expect(reads).toEqual(await segmentNames());
    expect(offered).toEqual(await WAL.snapshotMarkers(walDir));
    expect(offered).toEqual([{ index: 0, term: 0 }, { index: 40, term: 1 }, { index: 70, term: 1 }]);
    expect(plain(got.entries)).toEqual(plain(all.slice(40)));
    expect(got.hardState).toEqual(hs(1, 95));
    expect(got.wal.lastIndex).toBe(100);
    // the bytes read, up to each segment's last record, are the caller's: nothing returned shares them
    expect(got.spare.length).toBe(segments);
    expect(got.spare.every((b) => b.length > 0)).toBe(true);
    for (const b of got.spare) b.fill(0xaa);
    expect(plain(got.entries)).toEqual(plain(all.slice(40)));
    await got.wal.save(hs(1, 100), []);
    await got.wal.close();
    const again = await WAL.open(walDir, { index: 40, term: 1 }, { segmentBytes: SMALL });
    expect(plain(again.entries)).toEqual(plain(got.entries));
    expect(again.hardState).toEqual(hs(1, 100));
    await again.wal.close();
    // a marker the log does not hold: the open fails and leaves the WAL unlocked
    await expect(WAL.openAtChosen(walDir, async () => ({ index: 41, term: 1 }))).rejects.toMatchObject({ code: 'not-found' });
    await expect(WAL.openAtChosen(walDir, async () => Promise.reject(new Error('no snapshot')))).rejects.toThrow('no snapshot');
    const last = await WAL.openAtChosen(walDir, async () => ({ index: 70, term: 1 }), { segmentBytes: SMALL });
    expect(plain(last.entries)).toEqual(plain(all.slice(70)));
    await last.wal.close();
  });

  it('a snapshot marker beyond the last entry lets the log continue after it', async () => {
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await wal.save(hs(1, 2), makeEntries(rng(6), 1, 2, 1));
    await wal.saveSnapshot({ index: 50, term: 3 });
    const tail = makeEntries(rng(6), 51, 2, 3);
    await wal.save(hs(3, 50), tail);
    await wal.close();
    const got = await WAL.open(walDir, { index: 50, term: 3 }, { segmentBytes: SMALL });
    expect(plain(got.entries)).toEqual(plain(tail));
    await got.wal.close();
  });

  it('mustSync=false writes are kept and flushed by sync/close; unsynced then synced save in order', async () => {
    const r = rng(8);
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    const a = makeEntries(r, 1, 2, 1);
    const b = makeEntries(r, 3, 2, 1);
    await wal.save(hs(1, 0), a, false);
    await wal.save(hs(1, 2), b, true);
    await wal.save(hs(1, 4), [], false);
    await wal.sync();
    await wal.close();
    const got = await WAL.open(walDir, { index: 0, term: 0 });
    expect(plain(got.entries)).toEqual(plain([...a, ...b]));
    expect(got.hardState).toEqual(hs(1, 4));
    await got.wal.close();
  });

  it('works the same in fdatasync mode', async () => {
    const r = rng(9);
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL, syncMode: 'fdatasync' });
    const all = makeEntries(r, 1, 60, 4);
    for (let i = 0; i < 60; i += 6) await wal.save(hs(4, i), all.slice(i, i + 6));
    await wal.close();
    const got = await WAL.open(walDir, { index: 0, term: 0 }, { syncMode: 'fdatasync' });
    expect(plain(got.entries)).toEqual(plain(all));
    await got.wal.close();
  });

  for (const syncMode of ['dsync', 'fdatasync'] as const) {
    it(`inline saves (written on the calling thread) interleave with pool saves across segment cuts (${syncMode})`, async () => {
      const r = rng(11);
      const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL, syncMode });
      const all = makeEntries(r, 1, 80, 3);
      for (let i = 0; i < 80; i++) await wal.save(hs(3, i), all.slice(i, i + 1), true, i % 3 !== 0);
      await wal.close();
      expect((await segmentNames()).length).toBeGreaterThan(1);
      const got = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SMALL, syncMode });
      expect(plain(got.entries)).toEqual(plain(all));
      expect(got.hardState).toEqual(hs(3, 79));
      await got.wal.close();
    });
  }

  for (const syncMode of ['dsync', 'fdatasync'] as const) {
    it(`tells observeSync the duration of each flush, and only of flushes (${syncMode})`, async () => {
      const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL, syncMode });
      const seen: number[] = [];
      wal.observeSync = (s) => seen.push(s);
      const all = makeEntries(rng(12), 1, 4, 1);
      await wal.save(hs(1, 0), all.slice(0, 1), true, false);
      await wal.save(hs(1, 1), all.slice(1, 2), true, true);
      await wal.save(hs(1, 2), all.slice(2, 3), false); // no flush: not observed
      await wal.save(hs(1, 3), all.slice(3, 4), true, true); // flushes the unsynced write too
      expect(seen).toHaveLength(3);
      for (const s of seen) expect(s).toBeGreaterThanOrEqual(0);
      await wal.close();
    });
  }

  it('rejects gaps (a broken invariant) and a second opener (lock)', async () => {
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await expect(wal.save(hs(1, 0), makeEntries(rng(10), 5, 1, 1))).rejects.toThrow(/does not follow/);
    await expect(wal.save(hs(1, 0), makeEntries(rng(10), 1, 1, 1))).rejects.toThrow(/does not follow/); // failed WAL stays failed
    await wal.close();
    const got = await WAL.open(walDir, { index: 0, term: 0 });
    await expect(WAL.open(walDir, { index: 0, term: 0 })).rejects.toThrow(/locked/);
    await got.wal.close();
  });

  it('ignores empty saves and removes a stale temp segment on open', async () => {
    const wal = await WAL.create(walDir, meta, { segmentBytes: SMALL });
    await wal.save(undefined, []);
    await wal.save({ term: 0, vote: 0n, commit: 0 }, []);
    await wal.close();
    await fs.writeFile(path.join(walDir, 'next.wal.tmp'), 'junk');
    const got = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SMALL });
    expect(got.entries).toEqual([]);
    await got.wal.close();
    expect(await fs.readdir(walDir)).not.toContain('next.wal.tmp');
  });
});

describe('metadata with the member name', () => {
  it('is written at create, kept by open, and readable without opening the WAL', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wal-name-'));
    try {
      const walDir = path.join(dir, 'wal');
      expect(await readWalMetadata(walDir)).toBeUndefined();
      const wal = await WAL.create(walDir, { memberId: 7n, clusterId: 9n, name: 'infra1' }, { segmentBytes: 64 * 1024 });
      await wal.close();
      expect(await readWalMetadata(walDir)).toEqual({ memberId: 7n, clusterId: 9n, name: 'infra1' });
      const opened = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: 64 * 1024 });
      expect(opened.metadata).toEqual({ memberId: 7n, clusterId: 9n, name: 'infra1' });
      await opened.wal.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
