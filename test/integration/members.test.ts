// Membership changes with etcdctl on real processes: a cluster of ours grows by `member add` and a
// member started with --initial-cluster-state existing (writes before and after, equal hashes), and
// the output of `member add` matches etcd 3.4's for the same step once ids and ports are masked.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl } from './harness.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';
import { hashes, initialClusterOf, planJoiner, sleep, startJoiner, type Joiner } from './members-harness.js';

afterAll(cleanup);

/** ids, ports and temp paths masked: what must read the same for etcd and ours. */
function maskAdd(text: string, joiner: Joiner, all: ClusterMember[]): string {
  let t = text;
  for (const m of [...all, joiner]) t = t.split(m.peerUrl).join(`<PEER-${m.name}>`);
  // the members come in id order, and ids differ: compare the list as a set
  t = t.replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_, list: string) => `ETCD_INITIAL_CLUSTER="${list.split(',').sort().join(',')}"`);
  return t.replace(/ *\b[0-9a-f]{12,16}\b/g, ' <ID>'); // etcdctl pads ids to 16 columns (%16x)
}

/** Grows a fresh 3-member cluster of `impl` by one with `member add`; returns the masked output. */
async function addFourth(impl: 'ours' | 'etcd'): Promise<{ out: string; ms: ClusterMember[]; joiner: Joiner }> {
  const ms = await startCluster([impl, impl, impl]);
  await sleep(5500); // etcd's strict reconfiguration wants links up for 5 s (HealthInterval)
  const joiner = await planJoiner('m3');
  const out = await ctlOk(ms[0]!.endpoint, ['member', 'add', 'm3', `--peer-urls=${joiner.peerUrl}`]);
  return { out: maskAdd(out, joiner, ms), ms, joiner };
}

describe('member add, then a member started with existing', () => {
  it('grows 3 → 4: writes before and after reach the new member, hashes agree; member add prints as etcd', async () => {
    // the two clusters at once: each step waits mostly on etcd's 5 s HealthInterval
    const [etcd, ours] = await Promise.all([addFourth('etcd'), addFourth('ours')]);
    expect(ours.out).toBe(etcd.out);
    expect(ours.out).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    const { ms, joiner } = ours;
    await ctlOk(ms[1]!.endpoint, ['put', 'before', '1']);
    const j = await startJoiner('ours', joiner, initialClusterOf([...ms, joiner]));
    await ctlOk(ms[2]!.endpoint, ['put', 'after', '2']);
    expect(await ctlOk(j.endpoint, ['get', 'before'])).toBe('before\n1\n');
    expect(await ctlOk(j.endpoint, ['get', 'after'])).toBe('after\n2\n');
    const list = await ctlOk(j.endpoint, ['member', 'list']);
    expect(list).toContain(`, started, m3, ${joiner.peerUrl}, ${joiner.clientUrl}, false`);
    const hs = await hashes([...ms, j].map((m) => m.endpoint));
    expect(new Set(hs).size).toBe(1);
    const r = await etcdctl(j.endpoint, ['endpoint', 'status', '-w', 'json']);
    expect(r.code).toBe(0);
  }, 120_000);
});
