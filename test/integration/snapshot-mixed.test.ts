// Snapshots between a member of ours and a member of real etcd 3.4.23 carry etcd's bbolt database
// (issue 16): in a cluster [ours, etcd, ours] with --snapshot-count 100, the stopped etcd member
// catches up from a leader of ours by snapshot after a compaction, and every member ends with the
// same hashkv. (The other direction needs our v2 store to read etcd's v2 snapshot JSON: not yet.)
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk } from './harness.js';
import { hashKvs, startCluster, type ClusterMember } from './cluster-harness.js';

afterAll(cleanup, 30_000);

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Puts prefix0..prefix(n-1) through `m`'s JSON gateway, 32 at a time. */
async function putMany(m: ClusterMember, prefix: string, n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await fetch(`${m.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(`${prefix}${i}`), value: b64(`v${i}`) }) });
      if (!r.ok) throw new Error(`put ${prefix}${i}: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function converged(ms: ClusterMember[], timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hashes = await hashKvs(ms).catch(() => ['error']);
    if (hashes.length === ms.length && new Set(hashes).size === 1) return;
    if (Date.now() > deadline) throw new Error(`hashkv differs: ${hashes.join(' ')}\n${ms.map((m) => `${m.name}:\n${m.logs().slice(-3000)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('snapshots between members of ours and of etcd', () => {
  it('carry etcd\'s bbolt database from ours to etcd', async () => {
    const ms = await startCluster(['ours', 'etcd', 'ours'], { args: ['--snapshot-count', '100'], env: { ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '20' } });
    const etcd = ms[1]!;
    const a = ms[0]!;

    // ours → etcd
    await etcd.stop();
    await putMany(a, 'x', 300);
    await ctlOk(a.endpoint, ['compact', '200']);
    await etcd.restart();
    await converged(ms);
    expect(etcd.logs()).toMatch(/received and saved database snapshot/i);
    expect(await ctlOk(etcd.endpoint, ['get', 'x299', '--consistency=s'])).toBe('x299\nv299\n');
    expect(await ctlOk(etcd.endpoint, ['member', 'list'])).toBe(await ctlOk(a.endpoint, ['member', 'list']));
  }, 120_000);
});
