// Membership changes across implementations (issue 15), joins and removals: a member of ours joins a
// running cluster of real etcd 3.4.23 (`member add` at etcd, then --initial-cluster-state existing)
// and a real etcd joins a cluster of ours; each catches up from the log (--snapshot-count stays at
// etcd's 100,000: no snapshot crosses implementations). Each is then removed by the other while it is
// down, so it never applies its own removal: restarted, its streams are refused (410) and it logs its
// removal and exits 0, as etcd does; then it is replaced (data dir wiped, added again with the same
// peer URL) and joins again. Every step ends with equal hashkv on every member. Peers and
// clients speak mutual TLS (certificates made by openssl, see certs.ts); etcdctl takes the client
// certificate from ETCDCTL_CACERT/CERT/KEY, set for this file's process.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, tempDir, type Impl } from './harness.js';
import type { ClusterMember } from './cluster-harness.js';
import { makeCerts, type Certs } from './certs.js';
import { eventually, grow, localKeys, memberIdOf, sameHashes } from './members-harness.js';

let certs: Certs;

beforeAll(async () => {
  certs = makeCerts(await tempDir('it-certs-'));
  Object.assign(process.env, { ETCDCTL_CACERT: certs.caCert, ETCDCTL_CERT: certs.clientCert, ETCDCTL_KEY: certs.clientKey });
});
afterAll(cleanup);

/** etcd's and our log lines for a stream or message refused because its sender was removed. */
const REFUSED = /rejected the stream from peer [0-9a-f]+ since it was removed|rejected stream from remote peer because it was removed/;

/**
 * Removed (at `at`) while it was down, a member restarted is refused by the others, logs its
 * removal and exits 0; the others logged the refusal.
 */
async function removedWhileDown(at: ClusterMember, victim: ClusterMember, id: string, others: ClusterMember[]): Promise<void> {
  await victim.kill();
  expect(await ctlOk(at.endpoint, ['member', 'remove', id])).toMatch(new RegExp(`^Member +${id} removed from cluster +[0-9a-f]+\\n$`));
  await victim.restart({ wait: false });
  expect((await victim.exited()).code).toBe(0);
  expect(victim.logs()).toContain('the member has been permanently removed from the cluster');
  expect(victim.logs()).not.toContain('ready to serve client requests'); // (nor told systemd it was)
  expect(others.some((m) => REFUSED.test(m.logs()))).toBe(true);
}

function joinAndRemove(hosts: Impl, joiner: Impl): void {
  const what = joiner === 'ours' ? 'a member of ours in a cluster of real etcd' : 'a real etcd in a cluster of ours';
  // the two at once: each has its own cluster and mostly waits (etcd's HealthInterval, catching up)
  describe.concurrent(what, () => {
    it('joins with member add + existing and catches up from the log; removed while down, it is refused and stops', async () => {
      const { ms, j, id } = await grow([hosts, hosts, hosts], joiner, { certs });
      expect(await ctlOk(j.endpoint, ['put', 'from-joiner', joiner])).toBe('OK\n');
      const list = await ctlOk(ms[0]!.endpoint, ['member', 'list']);
      expect(list).toContain(`, started, m3, ${j.peerUrl}, ${j.clientUrl}, false`);
      expect(await ctlOk(j.endpoint, ['member', 'list'])).toBe(list);
      expect(await ctlOk(ms[2]!.endpoint, ['get', 'from-joiner', '--print-value-only'])).toBe(`${joiner}\n`);
      await sameHashes([...ms, j]);

      await removedWhileDown(ms[1]!, j, id, ms);
      expect((await ctlOk(ms[0]!.endpoint, ['member', 'list'])).trim().split('\n')).toHaveLength(3);
      expect(await ctlOk(ms[2]!.endpoint, ['put', 'after-remove', 'y'])).toBe('OK\n');
      await sameHashes(ms);

      // replaced, as etcd's runbook does it: its data dir wiped, added again with the same peer URL (a new id)
      await rm(j.dataDir, { recursive: true, force: true });
      await ctlOk(ms[2]!.endpoint, ['member', 'add', j.name, `--peer-urls=${j.peerUrl}`]);
      const id2 = await memberIdOf(ms[0]!.endpoint, j.peerUrl);
      expect(id2).not.toBe(id);
      await j.restart({ env: {} });
      expect(await ctlOk(ms[0]!.endpoint, ['put', 'after-replace', 'z'])).toBe('OK\n');
      await eventually(async () => (await localKeys(j)).includes('after-replace'));
      expect(await ctlOk(j.endpoint, ['member', 'list'])).toContain(`${id2}, started, m3, ${j.peerUrl}, ${j.clientUrl}, false`);
      await sameHashes([...ms, j]);
    }, 150_000);
  });
}

joinAndRemove('etcd', 'ours');
joinAndRemove('ours', 'etcd');
