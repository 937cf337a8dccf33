// Snapshots between a member of ours and a member of real etcd 3.4.23 carry etcd's bbolt database
// and etcd's v2 store JSON (issue 16): in a cluster [ours, etcd, ours] with --snapshot-count 100, the
// stopped etcd member catches up from a leader of ours by snapshot after a compaction, then a stopped
// member of ours from an etcd leader (etcd keeps 5000 entries for slow followers, so 5200 puts);
// every member ends with the same hashkv and the v2 keys written while it was down.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk } from './harness.js';
import { hashKvs, leaderOf, startCluster, type ClusterMember } from './cluster-harness.js';

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

async function v2put(m: ClusterMember, key: string, value: string): Promise<void> {
  const r = await fetch(`${m.clientUrl}/v2/keys/${key}`, { method: 'PUT', body: new URLSearchParams({ value }) });
  if (!r.ok) throw new Error(`v2 put ${key}: ${r.status} ${await r.text()}`);
}

async function v2get(m: ClusterMember, key: string): Promise<string> {
  const r = await fetch(`${m.clientUrl}/v2/keys/${key}?quorum=false`);
  return r.ok ? ((await r.json()) as { node: { value: string } }).node.value : `${r.status}`;
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
  it('carry etcd\'s bbolt database and v2 store both ways', async () => {
    const ms = await startCluster(['ours', 'etcd', 'ours'],
      { args: ['--snapshot-count', '100', '--enable-v2'], env: { ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '20' } });
    const etcd = ms[1]!;
    const a = ms[0]!;
    const c = ms[2]!;
    await v2put(a, 'old', 'before');

    // ours → etcd
    await etcd.stop();
    await v2put(a, 'old', 'after');
    await v2put(a, 'd/new', 'from ours');
    await putMany(a, 'x', 300);
    await ctlOk(a.endpoint, ['compact', '200']);
    await etcd.restart();
    await converged(ms);
    expect(etcd.logs()).toMatch(/received and saved database snapshot/i);
    expect(await ctlOk(etcd.endpoint, ['get', 'x299', '--consistency=s'])).toBe('x299\nv299\n');
    expect(await ctlOk(etcd.endpoint, ['member', 'list'])).toBe(await ctlOk(a.endpoint, ['member', 'list']));
    expect([await v2get(etcd, 'old'), await v2get(etcd, 'd/new')]).toEqual(['after', 'from ours']);

    // etcd → ours: etcd leads while c is down
    await c.stop();
    const ids = new Map((await ctlOk(a.endpoint, ['member', 'list'])).trim().split('\n').map((l) => [l.split(', ')[2]!, l.split(', ')[0]!]));
    const leader = await leaderOf(ms);
    if (leader !== etcd) await ctlOk(leader.endpoint, ['move-leader', ids.get(etcd.name)!]);
    expect(await leaderOf(ms)).toBe(etcd);
    await v2put(etcd, 'old', 'again');
    await v2put(etcd, 'e/new', 'from etcd');
    await putMany(etcd, 'y', 5200);
    await ctlOk(etcd.endpoint, ['compact', '5000']);
    await c.restart();
    await converged(ms);
    expect(c.logs()).toMatch(/applied snapshot/);
    expect(c.alive()).toBe(true);
    expect([await v2get(c, 'old'), await v2get(c, 'd/new'), await v2get(c, 'e/new')]).toEqual(['again', 'from ours', 'from etcd']);
    expect(await ctlOk(c.endpoint, ['get', 'y5199', '--consistency=s'])).toBe('y5199\nv5199\n');
  }, 180_000);
});
