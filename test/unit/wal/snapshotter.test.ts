import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/raft/types.js';
import { Snapshotter, snapFileName } from '../../../src/wal/index.js';
import { SimCrash, SimDisk } from '../../sim/disk.js';
import { Rng } from '../../sim/rng.js';
import { tempDir } from './helpers.js';

const snap = (index: number, term: number, data = `state@${index}`): Snapshot => ({
  data: Buffer.from(data),
  metadata: {
    index,
    term,
    confState: { voters: [1n, 0xffffffffffffffffn], learners: [7n], votersOutgoing: [], learnersNext: [3n], autoLeave: true },
  },
});
const norm = (s: Snapshot | undefined) => s && { ...s, data: Buffer.from(s.data).toString() };

let dir: string;
let snapDir: string;
beforeEach(async () => {
  dir = await tempDir();
  snapDir = path.join(dir, 'member', 'snap');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('Snapshotter', () => {
  it('saves term-index named files and loads the newest', async () => {
    const ss = new Snapshotter(snapDir);
    expect(await ss.loadNewestAvailable()).toBeUndefined();
    await ss.save(snap(10, 2));
    await ss.save(snap(20, 3));
    expect((await fs.readdir(snapDir)).sort()).toEqual([snapFileName(2, 10), snapFileName(3, 20)]);
    expect(snapFileName(3, 20)).toBe('0000000000000003-0000000000000014.snap');
    expect(norm(await ss.loadNewestAvailable())).toEqual(norm(snap(20, 3)));
  });

  it('only picks snapshots the WAL has a marker for', async () => {
    const ss = new Snapshotter(snapDir);
    await ss.save(snap(10, 2));
    await ss.save(snap(20, 3));
    await fs.writeFile(path.join(snapDir, `${snapFileName(4, 30)}.tmp`), 'half-written');
    expect((await ss.loadNewestAvailable([{ index: 0, term: 0 }, { index: 10, term: 2 }]))?.metadata.index).toBe(10);
    expect((await fs.readdir(snapDir)).sort()).toEqual([snapFileName(2, 10), snapFileName(3, 20)]);
    expect(await ss.loadNewestAvailable([{ index: 20, term: 4 }])).toBeUndefined();
  });

  it('renames a damaged file to .broken and falls back to the previous one', async () => {
    const ss = new Snapshotter(snapDir);
    await ss.save(snap(10, 2));
    await ss.save(snap(20, 3));
    const newest = path.join(snapDir, snapFileName(3, 20));
    const b = await fs.readFile(newest);
    b[b.length - 1]! ^= 1;
    await fs.writeFile(newest, b);
    expect((await ss.loadNewestAvailable())?.metadata.index).toBe(10);
    expect((await fs.readdir(snapDir)).sort()).toEqual([snapFileName(2, 10), `${snapFileName(3, 20)}.broken`]);
  });

  it('releaseOlderThan removes files below the index', async () => {
    const ss = new Snapshotter(snapDir);
    for (const i of [5, 10, 15]) await ss.save(snap(i, 1));
    await ss.releaseOlderThan(10);
    expect((await fs.readdir(snapDir)).sort()).toEqual([snapFileName(1, 10), snapFileName(1, 15)]);
  });

  it('ignores an empty snapshot', async () => {
    const ss = new Snapshotter(snapDir);
    await ss.save(snap(0, 0));
    expect(await ss.loadNewestAvailable()).toBeUndefined();
  });
});

describe('Snapshotter over a crashing simulated disk', () => {
  it('a snapshot whose save resolved is loaded after any crash (200 seeds)', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(seed);
      let disk = new SimDisk({ seed, crashAtOp: rng.int(1, 60) });
      await disk.mkdir('/data/member', { recursive: true }).then(() => disk.fsyncDir('/data')).then(() => disk.fsyncDir('/')).catch(() => undefined);
      let durable = 0;
      try {
        const ss = new Snapshotter('/data/member/snap', undefined, disk);
        for (let i = 1; i <= 8; i++) {
          await ss.save(snap(i * 10, 1));
          durable = i * 10;
          if (rng.chance(0.3)) await ss.releaseOlderThan(durable);
        }
      } catch (err) {
        if (!(err instanceof SimCrash)) throw err;
      }
      disk = disk.restart();
      const got = await new Snapshotter('/data/member/snap', undefined, disk).loadNewestAvailable();
      expect(got?.metadata.index ?? 0, `seed ${seed}`).toBeGreaterThanOrEqual(durable);
    }
  });
});
