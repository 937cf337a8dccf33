// A member added after the leader compacted its log catches up by snapshot (members of ours, a small
// --snapshot-count and the test-only ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES, as cluster-snapshot.test.ts):
// it starts with --initial-cluster-state existing and an empty log, is sent the leader's database, and
// ends with the same keys and hashkv as the others; added as a learner, the same, then promoted.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl } from './harness.js';
import { leaderOf, startCluster, waitHealthy, type ClusterMember } from './cluster-harness.js';
import { ctlSettled, hashes, initialClusterOf, memberIdOf, planJoiner, sleep, startJoiner } from './members-harness.js';

afterAll(cleanup);

const ARGS = ['--snapshot-count', '100'];
const ENV = { ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '20' };
const JOIN_TIMEOUT_MS = 90_000; // start, join and install on a loaded machine

async function putMany(m: ClusterMember, prefix: string, n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await fetch(`${m.clientUrl}/v3/kv/put`, {
        method: 'POST', body: JSON.stringify({ key: Buffer.from(`${prefix}${i}`).toString('base64'), value: Buffer.from(`v${i}`).toString('base64') }),
      });
      if (!r.ok) throw new Error(`put: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function eventually(f: () => Promise<boolean>, what: string, ms = 40_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(250);
  }
}

const snapshotsSent = (ms: ClusterMember[]): number =>
  ms.map((m) => m.logs()).join('\n').split('\n').filter((l) => l.includes('"msg":"sent database snapshot"')).length;

describe('a member added after the leader compacted its log', () => {
  it('catches up by snapshot, as a voter and as a learner; hashkv equal at the end', async () => {
    const ms = await startCluster(['ours', 'ours', 'ours'], { args: ARGS, env: ENV });
    const linksUp = sleep(5500); // strict reconfiguration: links up for 5 s (the puts meanwhile)
    const leader = await leaderOf(ms);
    await putMany(leader, 'k', 300);
    expect(leader.logs()).toContain('"msg":"saved snapshot"');
    await linksUp;

    const j = await planJoiner('m3');
    await ctlSettled(ms[0]!.endpoint, ['member', 'add', 'm3', `--peer-urls=${j.peerUrl}`]);
    const voter = await startJoiner('ours', j, initialClusterOf([...ms, j]), { args: ARGS, env: ENV, wait: false });
    await waitHealthy([voter], undefined, JOIN_TIMEOUT_MS);
    const voterLinked = sleep(5500); // the links to the new voter up for 5 s before the next add (the checks meanwhile)
    await eventually(async () => (await ctlOk(voter.endpoint, ['get', 'k299', '--consistency=s'])) === 'k299\nv299\n', 'k299 on the new voter');
    expect(voter.logs()).toContain('"msg":"applied snapshot"');
    expect(snapshotsSent(ms)).toBeGreaterThanOrEqual(1);
    await ctlOk(voter.endpoint, ['put', 'from-new', 'x']);
    const all = [...ms, voter];
    await eventually(async () => new Set(await hashes(all.map((m) => m.endpoint))).size === 1, 'equal hashkv');

    await putMany(leader, 'more', 200);
    await voterLinked;
    const l = await planJoiner('m4');
    await ctlSettled(ms[1]!.endpoint, ['member', 'add', 'm4', '--learner', `--peer-urls=${l.peerUrl}`]);
    const learner = await startJoiner('ours', l, initialClusterOf([...all, l]), { args: ARGS, env: ENV, wait: false });
    await waitHealthy([learner], undefined, JOIN_TIMEOUT_MS);
    await eventually(async () => (await ctlOk(learner.endpoint, ['get', 'more199', '--consistency=s'])) === 'more199\nv199\n', 'more199 on the learner');
    expect(learner.logs()).toContain('"msg":"applied snapshot"');
    const id = await memberIdOf(ms[0]!.endpoint, l.peerUrl);
    await eventually(async () => (await etcdctl(ms[2]!.endpoint, ['member', 'promote', id])).code === 0, 'promotion');
    await ctlOk(learner.endpoint, ['put', 'from-learner', 'y']);
    await eventually(async () => new Set(await hashes([...all, learner].map((m) => m.endpoint))).size === 1, 'equal hashkv with the promoted learner');
    for (const m of [...all, learner]) await m.kill();
  }, 240_000);
});
