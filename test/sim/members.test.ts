// CI's share of the whole-member simulation (test/sim/member/): 500 seeds of clusters of 1, 3 and 5
// real members over simulated disks, store, network and clock, with membership changes in half of
// them and leases in a third, in chunks so that a failure names its seeds. Replay one with
// `npm run sim -- --members --seed N`.
import { describe, expect, it } from 'vitest';
import { runMemberSeed } from './member/run.js';

const SEEDS = 500;
const CHUNK = 50;

// Seeds that found a bug in the member, kept by name (as the simulation was when they were found;
// they also fall within the CI seeds above). The cause is pinned by the unit test cited.
const regressions: { name: string; seed: number; restarts?: boolean }[] = [
  // A member that joined a running cluster and crashed after creating its WAL, before applying the
  // membership, restarted with no peers and could never answer the leader (applied 0 for good). Fixed
  // by etcd's addRemoteFromRequest (transport.test.ts: "names the sender of a pipeline post").
  { name: 'a joining member restarted before it applied the membership reaches the leader', seed: 19 },
  // A sole voter sent its learner the commit index of entries it had not yet written (its Ready's
  // messages went out before the save): the learner applied them, the leader lost them in a crash and
  // wrote other entries at those indexes (state-machine safety). Fixed as etcd 3.4's shouldWaitWALSync
  // (raft-node.test.ts: "sends nothing carrying a commit index before the WAL write").
  { name: 'a sole voter\'s learner never applies entries the voter has not saved', seed: 777 },
  { name: 'a sole voter\'s learner never applies entries the voter has not saved (second history)', seed: 1017 },
  // Of two voters one was removed and stopped; the other had applied the removal but its commit index
  // was never synced (raft asks no sync for a commit alone), so after a power cut it restarted counting
  // the removed member's vote and never led again. A committed conf change's commit is now synced
  // before it is applied or told (raft-node.test.ts: "a committed conf change").
  { name: 'the member left after a removal leads again after a power cut', seed: 561 },
  { name: 'the member left after a removal leads again after a power cut (second history)', seed: 1174 },
  { name: 'the member left after a removal leads again after a power cut (third history)', seed: 2090 },
  // Not a bug found but a mutation check kept: a torn WAL tail left unrepaired at open is overwritten
  // by later appends only in part, and a later restart reads the rest as a corrupt record. Since
  // membership changes and leases entered the draws, this is the first seed of 1..2500 to hit it.
  { name: 'a torn WAL tail is repaired at open, so a second restart reads the log', seed: 1156, restarts: true },
];

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

  for (const r of regressions) {
    it(`regression: ${r.name} (seed ${r.seed})`, async () => {
      const res = await runMemberSeed({ seed: r.seed });
      expect(res.error).toBeUndefined();
      if (r.restarts) expect(res.stats.crashes! + res.stats.powerCuts!).toBeGreaterThan(1);
      else expect(res.stats.adds! + res.stats.removes!).toBeGreaterThan(0);
      expect(res.stats.putsAcked).toBeGreaterThan(0);
    }, 60_000);
  }

  it('replays a seed exactly, and exercises crashes, partitions, transfers, snapshots, membership changes and leases', async () => {
    const a = await runMemberSeed({ seed: 7, members: 3, trace: true });
    const b = await runMemberSeed({ seed: 7, members: 3, trace: true });
    expect(a.trace).toEqual(b.trace);
    const totals: Record<string, number> = {};
    for (let s = 1; s <= 20; s++) for (const [k, v] of Object.entries((await runMemberSeed({ seed: s, members: 3 })).stats)) totals[k] = (totals[k] ?? 0) + v;
    const kinds = [
      'crashes', 'restarts', 'partitions', 'transfers', 'snapshotsSent', 'putsAcked', 'getsOk',
      'addsAcked', 'joins', 'peerGetMembers', 'promotesAcked', 'peerPromotes', 'removesAcked', 'removedStops',
      'leaseGrantsAcked', 'leasePutsAcked', 'keepAlivesAcked', 'peerLeaseRenews', 'leaseRevokesAcked',
    ];
    for (const k of kinds) expect(totals[k], k).toBeGreaterThan(0);
  }, 600_000);
});
