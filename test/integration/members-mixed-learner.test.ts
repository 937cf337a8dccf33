// Learners across implementations (issue 15), with etcdctl: a learner of ours in a cluster of real
// etcd 3.4.23 and a learner of etcd in a cluster of ours, each refused promotion while it has not
// started (its match is 0) and promoted by the other once caught up; then, in mixed clusters, the
// promotion asked at a follower of one implementation while the leader is of the other (forwarded
// over POST /members/promote/<id>), and the leader itself removed live by a member of the other kind:
// it logs its removal and exits 0, the rest elect a leader and go on. hashkv equal after each step.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, type Impl } from './harness.js';
import { leaderOf, type ClusterMember } from './cluster-harness.js';
import { eventually, follower, grow, makeLeader, memberIdOf, sameHashes } from './members-harness.js';

afterAll(cleanup);

const NOT_READY = 'Error: etcdserver: can only promote a learner member which is in sync with leader';

/** Promotion asked at `at` is refused while the learner has not started. */
function refusedWhileBehind(at: (ms: ClusterMember[]) => Promise<ClusterMember>) {
  return async ({ ms, id }: { ms: ClusterMember[]; id: string }): Promise<void> => {
    const r = await etcdctl((await at(ms)).endpoint, ['member', 'promote', id]);
    expect(r.stderr).toContain(NOT_READY);
  };
}

/** The learner is listed as one, then promoted at `at` once caught up, then serves linearizable reads and writes. */
async function promote(ms: ClusterMember[], j: ClusterMember, id: string, at: ClusterMember): Promise<void> {
  expect((await etcdctl(j.endpoint, ['get', 'before/0'])).stderr).toContain('rpc not supported for learner');
  await eventually(async () => (await ctlOk(ms[0]!.endpoint, ['member', 'list'])).includes(`, started, ${j.name}, ${j.peerUrl}, ${j.clientUrl}, true`));
  let out = '';
  await eventually(async () => {
    const r = await etcdctl(at.endpoint, ['member', 'promote', id]);
    out = r.stdout;
    if (r.code !== 0) expect(r.stderr).toContain(NOT_READY);
    return r.code === 0;
  }, 20_000);
  expect(out).toMatch(new RegExp(`^Member +${id} promoted in cluster +[0-9a-f]+\\n$`)); // ids padded to 16 columns
  await eventually(async () => (await ctlOk(j.endpoint, ['member', 'list'])).includes(`, ${j.name}, ${j.peerUrl}, ${j.clientUrl}, false`));
  expect(await ctlOk(j.endpoint, ['put', 'promoted', j.impl])).toBe('OK\n');
  expect(await ctlOk(j.endpoint, ['get', 'before/0', '--print-value-only'])).toBe(`${ms[0]!.impl}-0\n`);
  await sameHashes([...ms, j]);
}

/** The leader, removed live at a follower of the other implementation, logs its removal and exits 0; the rest go on. */
async function removeLeader(all: ClusterMember[], leader: ClusterMember): Promise<void> {
  const id = await memberIdOf(all[0]!.endpoint, leader.peerUrl);
  const at = await follower(all.filter((m) => m.impl !== leader.impl));
  await makeLeader(all, leader);
  expect(await ctlOk(at.endpoint, ['member', 'remove', id])).toMatch(new RegExp(`^Member +${id} removed from cluster +[0-9a-f]+\\n$`));
  expect((await leader.exited()).code).toBe(0);
  expect(leader.logs()).toContain('the member has been permanently removed from the cluster');
  const rest = all.filter((m) => m !== leader);
  expect(rest).toContain(await leaderOf(rest));
  expect(await ctlOk(at.endpoint, ['put', 'after-remove', 'y'])).toBe('OK\n');
  expect((await ctlOk(rest[0]!.endpoint, ['member', 'list'])).trim().split('\n')).toHaveLength(rest.length);
  await sameHashes(rest);
}

describe('learners across implementations', () => {
  it('a learner of ours in a cluster of etcd: refused while behind, promoted by etcd once caught up', async () => {
    const at = (ms: ClusterMember[]): Promise<ClusterMember> => follower(ms);
    const { ms, j, id } = await grow(['etcd', 'etcd', 'etcd'], 'ours', { learner: true, beforeStart: refusedWhileBehind(at) });
    await promote(ms, j, id, await at(ms));
  }, 120_000);

  it('a learner of etcd in a cluster of ours: refused while behind, promoted at a follower of ours (forwarded to the leader)', async () => {
    const at = (ms: ClusterMember[]): Promise<ClusterMember> => follower(ms);
    const { ms, j, id } = await grow(['ours', 'ours', 'ours'], 'etcd', { learner: true, beforeStart: refusedWhileBehind(at) });
    await promote(ms, j, id, await at(ms));
  }, 120_000);
});

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
    const { ms, j, id } = await grow(impls, joiner, { learner: true, addAt: at, beforeStart: refusedWhileBehind(at) });
    await promote(ms, j, id, await at(ms));
    await removeLeader([...ms, j], await leaderOf([...ms, j]));
  }, 120_000);
}

describe('promotion forwarded across implementations, and the leader removed', () => {
  forwarded(['ours', 'ours', 'etcd'], 'etcd', 'ours');
  forwarded(['etcd', 'etcd', 'ours'], 'ours', 'etcd');
});
