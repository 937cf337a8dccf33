// CI's share of the seeded cluster simulation: 500 seeds (3- and 5-node clusters), in chunks so that a
// failure names its seeds. Replay one with `npm run sim -- --seed N`.
import { describe, expect, it } from 'vitest';
import { runSeed } from './run.js';

const chunks = 5;
const seedsPerChunk = 100;

function runRange(first: number, count: number, nodes: number): string[] {
  const failures: string[] = [];
  for (let s = first; s < first + count; s++) {
    const res = runSeed({ seed: s, nodes });
    if (!res.ok) failures.push(`seed ${s} (${nodes} nodes): ${res.error} — replay: npm run sim -- --seed ${s} --nodes ${nodes}`);
  }
  return failures;
}

describe('raft cluster simulation', () => {
  for (let c = 0; c < chunks; c++) {
    const first = 1 + c * seedsPerChunk;
    for (const nodes of [3, 5]) {
      const start = nodes === 3 ? first : first + seedsPerChunk / 2;
      it(`seeds ${start}..${start + seedsPerChunk / 2 - 1} on ${nodes} nodes stay safe and live`, () => {
        expect(runRange(start, seedsPerChunk / 2, nodes)).toEqual([]);
      });
    }
  }
});

describe('simulation self-checks', () => {
  it('replays a seed identically', () => {
    const a = runSeed({ seed: 4242, trace: true });
    const b = runSeed({ seed: 4242, trace: true });
    expect(a.trace).toEqual(b.trace);
    expect(a.stats.acked).toBeGreaterThan(0);
  });

  it('exercises faults, snapshots and membership changes across seeds', () => {
    const totals = {
      crashes: 0, snapshotsSent: 0, confChanges: 0, leaders: 0, acked: 0, reads: 0,
      membersAdded: 0, learnersAdded: 0, membersRemoved: 0, leaderRemovals: 0, promotions: 0, freshSnapshots: 0, learnerSnapshots: 0,
    };
    for (let s = 9000; s < 9040; s++) {
      const r = runSeed({ seed: s });
      expect(r.ok, r.error).toBe(true);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
    }
    expect(totals.crashes).toBeGreaterThan(10);
    expect(totals.snapshotsSent).toBeGreaterThan(0);
    expect(totals.confChanges).toBeGreaterThan(0);
    expect(totals.leaders).toBeGreaterThan(40);
    expect(totals.reads).toBeGreaterThan(0);
    // Members join under fresh ids (as voters and learners), catch up by snapshot, get promoted and removed,
    // the leader among them; learners that fell behind catch up by snapshot too.
    expect(totals.membersAdded).toBeGreaterThan(5);
    expect(totals.learnersAdded).toBeGreaterThan(5);
    expect(totals.promotions).toBeGreaterThan(5);
    expect(totals.membersRemoved).toBeGreaterThan(5);
    expect(totals.leaderRemovals).toBeGreaterThan(2);
    expect(totals.freshSnapshots).toBeGreaterThan(5);
    expect(totals.learnerSnapshots).toBeGreaterThan(2);
  });
});
