// Learners across implementations (issue 15), with etcdctl: a learner of ours in a cluster of real
// etcd 3.4.23 and a learner of etcd in a cluster of ours, each refused promotion while it has not
// started (its match is 0) and promoted by the other once caught up (asked at a follower, forwarded to
// the leader), then removed live by the other: it logs its removal and exits 0. hashkv equal after
// each step. The mixed clusters' promotions across implementations are in
// members-mixed-forward.test.ts.
import { afterAll, describe, it } from 'vitest';
import { cleanup } from './harness.js';
import type { ClusterMember } from './cluster-harness.js';
import { follower, grow } from './members-harness.js';
import { promote, refusedWhileBehind, removeLive } from './learner-steps.js';

afterAll(cleanup);

// the two tests at once: each has its own cluster and mostly waits (etcd's HealthInterval, catching up)
describe.concurrent('learners across implementations', () => {
  it('a learner of ours in a cluster of etcd: refused while behind, promoted by etcd once caught up, removed live by etcd', async () => {
    const at = (ms: ClusterMember[]): Promise<ClusterMember> => follower(ms);
    const { ms, j, id } = await grow(['etcd', 'etcd', 'etcd'], 'ours', { learner: true, beforeStart: refusedWhileBehind(at) });
    await promote(ms, j, id, await at(ms));
    await removeLive(ms[2]!, j, id, [...ms, j]);
  }, 120_000);

  it('a learner of etcd in a cluster of ours: refused while behind, promoted at a follower of ours (forwarded to the leader), removed live by ours', async () => {
    const at = (ms: ClusterMember[]): Promise<ClusterMember> => follower(ms);
    const { ms, j, id } = await grow(['ours', 'ours', 'ours'], 'etcd', { learner: true, beforeStart: refusedWhileBehind(at) });
    await promote(ms, j, id, await at(ms));
    await removeLive(ms[2]!, j, id, [...ms, j]);
  }, 120_000);
});
