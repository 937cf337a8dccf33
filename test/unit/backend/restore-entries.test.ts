// restoreEntries: the chunks of a restore go to LevelDB two at a time; every entry lands, one failed
// batch fails the restore only after the other in-flight batch has settled and the store is closed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreEntries } from '../../../src/backend/index.js';
import type { Engine, EngineOp, Engines } from '../../../src/backend/engine.js';
import { levelEngines } from '../../../src/platform/level.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restore-entries-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

function* chunks(n: number, per: number): Generator<Array<[Buffer, Buffer]>> {
  for (let c = 0; c < n; c++) {
    yield Array.from({ length: per }, (_, i): [Buffer, Buffer] => [Buffer.from(`k${String(c * per + i).padStart(6, '0')}`), Buffer.from(`v${c * per + i}`)]);
  }
}

/** levelEngines whose batches are watched: how many are in flight at most, and the nth may fail. */
function watched(failAt = -1): { engines: Engines; stats: { maxInFlight: number; batches: number; closedWith: number } } {
  const stats = { maxInFlight: 0, batches: 0, closedWith: -1 };
  let inFlight = 0;
  const engines: Engines = {
    ...levelEngines,
    async open(path, opts) {
      const e = await levelEngines.open(path, opts);
      const w: Engine = Object.create(e);
      w.batch = async (ops: EngineOp[], sync: boolean) => {
        const n = stats.batches++;
        stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
        try {
          await new Promise((r) => setTimeout(r, n === failAt ? 1 : 5));
          if (n === failAt) throw new Error('disk full');
          await e.batch(ops, sync);
        } finally {
          inFlight--;
        }
      };
      w.close = async () => {
        stats.closedWith = inFlight;
        await e.close();
      };
      return w;
    },
  };
  return { engines, stats };
}

describe('restoreEntries', () => {
  it('writes every entry of every chunk, two batches in flight at most', async () => {
    const { engines, stats } = watched();
    await restoreEntries(join(dir, 'db'), chunks(20, 50), engines);
    expect(stats.maxInFlight).toBe(2);
    const db = await levelEngines.open(join(dir, 'db'));
    try {
      const it = db.iterator({});
      const got = (await it.nextv(2000)).map(([k, v]) => `${k}=${v}`);
      await it.close();
      expect(got).toHaveLength(1000);
      expect(got[0]).toBe('k000000=v0');
      expect(got[999]).toBe('k000999=v999');
    } finally {
      await db.close();
    }
  });

  it('fails with a failed batch, closing the store only once no batch is in flight', async () => {
    const { engines, stats } = watched(3);
    await expect(restoreEntries(join(dir, 'db'), chunks(20, 50), engines)).rejects.toThrow('disk full');
    expect(stats.closedWith).toBe(0);
    expect(stats.batches).toBeLessThan(20);
  });
});
