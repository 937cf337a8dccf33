// Promotions across implementations in mixed clusters (issue 15): a cluster led by one kind, a
// learner of the other added and promoted at a follower of the kind that does not lead, so the conf
// change (MsgProp) and the promotion (POST /members/promote/<id>) go to the leader across
// implementations, refused before the learner starts and done once it caught up; then the leader
// itself removed live at a follower of the other kind: it logs its removal and exits 0, the rest
// elect a leader and go on. hashkv equal after each step; an etcd leader's corruption check finds
// the hashes of members of ours equal to its own.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, type Impl } from './harness.js';
import { leaderOf, type ClusterMember } from './cluster-harness.js';
import { follower, grow, makeLeader, sleep } from './members-harness.js';
import { promote, refusedWhileBehind, removeLeader } from './learner-steps.js';

afterAll(cleanup);

/**
 * A mixed cluster whose leader is of `leads`; a learner of `joiner` added and promoted at a follower of
 * the other kind (its conf changes and promotion go to the leader across implementations); then the
 * leader removed.
 */
function forwarded(impls: Impl[], leads: Impl, joiner: Impl): void {
  const other: Impl = leads === 'ours' ? 'etcd' : 'ours';
  it(`${impls.join(', ')} led by ${leads}: a learner of ${joiner} added and promoted at a follower of ${other}; the leader removed live`, async () => {
    const at = async (ms: ClusterMember[]): Promise<ClusterMember> => {
      await makeLeader(ms, ms.find((m) => m.impl === leads)!);
      return follower(ms, other);
    };
    // an etcd leader checks its peers' hashes every second (GET /members/hashkv), members of ours too
    const args = ['--experimental-corrupt-check-time=1s'];
    const { ms, j, id } = await grow(impls, joiner, { learner: true, addAt: at, beforeStart: refusedWhileBehind(at), args });
    await promote(ms, j, id, await at(ms));
    const leader = await leaderOf([...ms, j]);
    if (leader.impl === 'etcd') {
      await sleep(2500);
      expect(leader.logs()).toContain('finished peer corruption check');
      // (a member not started yet or behind is 'connection refused' or 'future revision', as etcd's own)
      expect(leader.logs()).not.toMatch(/hash-kv error "unknown error|found data inconsistency|CORRUPT/);
    }
    await removeLeader([...ms, j], await leaderOf([...ms, j]));
  }, 120_000);
}

// the two tests at once: each has its own cluster and mostly waits (etcd's HealthInterval, catching up)
describe.concurrent('promotion forwarded across implementations, and the leader removed', () => {
  forwarded(['ours', 'ours', 'etcd'], 'etcd', 'ours');
  forwarded(['etcd', 'etcd', 'ours'], 'ours', 'etcd');
});
