// Steps of the learner tests across implementations (members-mixed-learner and members-mixed-forward):
// a promotion refused before the learner starts, a promotion once caught up, a member (the leader
// too) removed live.
import { expect } from 'vitest';
import { ctlOk, etcdctl } from './harness.js';
import { leaderOf, type ClusterMember } from './cluster-harness.js';
import { eventually, follower, makeLeader, memberIdOf, sameHashes } from './members-harness.js';

const NOT_READY = 'Error: etcdserver: can only promote a learner member which is in sync with leader';

/** Promotion asked at `at` is refused while the learner has not started. */
export function refusedWhileBehind(at: (ms: ClusterMember[]) => Promise<ClusterMember>) {
  return async ({ ms, id }: { ms: ClusterMember[]; id: string }): Promise<void> => {
    const r = await etcdctl((await at(ms)).endpoint, ['member', 'promote', id]);
    expect(r.stderr).toContain(NOT_READY);
  };
}

/** The learner is listed as one, then promoted at `at` once caught up, then serves linearizable reads and writes. */
export async function promote(ms: ClusterMember[], j: ClusterMember, id: string, at: ClusterMember): Promise<void> {
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

/** `victim` (hex id `id`), removed live at `at`, logs its removal and exits 0; the rest agree on a leader and go on. */
export async function removeLive(at: ClusterMember, victim: ClusterMember, id: string, all: ClusterMember[]): Promise<void> {
  expect(await ctlOk(at.endpoint, ['member', 'remove', id])).toMatch(new RegExp(`^Member +${id} removed from cluster +[0-9a-f]+\\n$`));
  expect((await victim.exited()).code).toBe(0);
  expect(victim.logs()).toContain('the member has been permanently removed from the cluster');
  const rest = all.filter((m) => m !== victim);
  expect(rest).toContain(await leaderOf(rest));
  expect(await ctlOk(at.endpoint, ['put', 'after-remove', 'y'])).toBe('OK\n');
  expect((await ctlOk(rest[0]!.endpoint, ['member', 'list'])).trim().split('\n')).toHaveLength(rest.length);
  await sameHashes(rest);
}

/** The leader, removed live at a follower of the other implementation. */
export async function removeLeader(all: ClusterMember[], leader: ClusterMember): Promise<void> {
  const id = await memberIdOf(all[0]!.endpoint, leader.peerUrl);
  const at = await follower(all.filter((m) => m.impl !== leader.impl));
  await makeLeader(all, leader);
  await removeLive(at, leader, id, all);
}
