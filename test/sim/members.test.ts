// CI's share of the whole-member simulation (test/sim/member/): 500 seeds of clusters of 1, 3 and 5
// real members over simulated disks, store, network and clock, in chunks so that a failure names
// its seeds. Replay one with `npm run sim -- --members --seed N`.
import { describe, expect, it } from 'vitest';
import { runMemberSeed } from './member/run.js';

const SEEDS = 500;
const CHUNK = 50;

describe('whole-member simulation', () => {
  for (let first = 1; first <= SEEDS; first += CHUNK) {
    it(`seeds ${first}..${first + CHUNK - 1}: raft safety, no acknowledged write lost, same entries and HashKV, linearizable reads`, async () => {
      const failures: string[] = [];
      for (let s = first; s < first + CHUNK; s++) {
        const r = await runMemberSeed({ seed: s });
        if (!r.ok) failures.push(`seed ${s} (${r.members} members): ${r.error} (replay: npm run sim -- --members --seed ${s})`);
      }
      expect(failures).toEqual([]);
    }, 600_000);
  }

  it('replays a seed exactly, and exercises crashes, partitions, transfers and snapshots', async () => {
    const a = await runMemberSeed({ seed: 7, members: 3, trace: true });
    const b = await runMemberSeed({ seed: 7, members: 3, trace: true });
    expect(a.trace).toEqual(b.trace);
    const totals: Record<string, number> = {};
    for (let s = 1; s <= 20; s++) for (const [k, v] of Object.entries((await runMemberSeed({ seed: s, members: 3 })).stats)) totals[k] = (totals[k] ?? 0) + v;
    for (const k of ['crashes', 'restarts', 'partitions', 'transfers', 'snapshotsSent', 'putsAcked', 'getsOk']) expect(totals[k], k).toBeGreaterThan(0);
  }, 600_000);
});
