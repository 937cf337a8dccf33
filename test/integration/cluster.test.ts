// Three members of ours on loopback, plain http peers: every member serves writes and reads, a
// watch on a follower sees the leader's writes, the cluster survives kill -9 of its leader, and the
// old leader catches up when it comes back.
import { afterAll, describe, expect, it } from 'vitest';
import { ETCDCTL_BIN, cleanup, ctlOk, etcdctl, run } from './harness.js';
import { hashKvs, leaderOf, startCluster, type ClusterMember } from './cluster-harness.js';

afterAll(cleanup);

describe('a cluster of three members of ours', () => {
  let ms: ClusterMember[] = [];

  it('bootstraps with etcd\'s ids, and every member lists the same three members', async () => {
    ms = await startCluster(['ours', 'ours', 'ours']);
    const lists = await Promise.all(ms.map((m) => ctlOk(m.endpoint, ['member', 'list'])));
    for (const l of lists) expect(l).toBe(lists[0]);
    const lines = lists[0]!.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const [i, m] of ms.entries()) expect(lines.filter((l) => l.endsWith(`, started, m${i}, ${m.peerUrl}, ${m.clientUrl}, false`))).toHaveLength(1);
  }, 60_000);

  it('takes writes through every member and serves them from every member, linearizable and serializable', async () => {
    for (const [i, m] of ms.entries()) expect(await ctlOk(m.endpoint, ['put', `k${i}`, `v${i}`])).toBe('OK\n');
    for (const m of ms) {
      expect(await ctlOk(m.endpoint, ['get', 'k', '--prefix'])).toBe('k0\nv0\nk1\nv1\nk2\nv2\n');
      expect(await ctlOk(m.endpoint, ['get', 'k', '--prefix', '--consistency=s'])).toMatch(/k2\nv2\n$/);
    }
  }, 60_000);

  it('a watch on a follower sees a write made at the leader', async () => {
    const leader = await leaderOf(ms);
    const follower = ms.find((m) => m !== leader)!;
    const watch = etcdctl(follower.endpoint, ['watch', 'w'], { killWhen: /w\nfrom-leader\n/, timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 500));
    await ctlOk(leader.endpoint, ['put', 'w', 'from-leader']);
    expect((await watch).stdout).toBe('PUT\nw\nfrom-leader\n');
  }, 30_000);

  it('leases granted at a follower are kept alive and expire through the leader', async () => {
    const leader = await leaderOf(ms);
    const follower = ms.find((m) => m !== leader)!;
    const id = /lease ([0-9a-f]+) granted/.exec(await ctlOk(follower.endpoint, ['lease', 'grant', '60']))![1]!;
    expect(await ctlOk(follower.endpoint, ['lease', 'keep-alive', '--once', id])).toMatch(new RegExp(`lease ${id} keepalived with TTL\\(60\\)`));
    expect(await ctlOk(follower.endpoint, ['lease', 'timetolive', id])).toMatch(new RegExp(`lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\)`));
    await ctlOk(follower.endpoint, ['lease', 'revoke', id]);
  }, 30_000);

  it('answers the v2 cluster views: cluster-health, member list, the leader\'s follower stats, peer metrics', async () => {
    const leader = await leaderOf(ms);
    const health = await run(ETCDCTL_BIN, ['--endpoints', ms[0]!.clientUrl, 'cluster-health'], { env: { ETCDCTL_API: '2' } });
    expect(health.stdout).toMatch(/cluster is healthy\n$/);
    expect(health.stdout.match(/is healthy: got healthy result from/g)).toHaveLength(3);
    const list = (await run(ETCDCTL_BIN, ['--endpoints', ms[1]!.clientUrl, 'member', 'list'], { env: { ETCDCTL_API: '2' } })).stdout;
    expect(list.match(/isLeader=true/g)).toHaveLength(1);
    expect(list).toContain(`name=${leader.name} peerURLs=${leader.peerUrl} clientURLs=${leader.clientUrl} isLeader=true`);
    const stats = (await (await fetch(`${leader.clientUrl}/v2/stats/leader`)).json()) as { followers: Record<string, { counts: { success: number } }> };
    expect(Object.keys(stats.followers)).toHaveLength(2);
    for (const f of Object.values(stats.followers)) expect(f.counts.success).toBeGreaterThan(0);
    const follower = ms.find((m) => m !== leader)!;
    expect((await fetch(`${follower.clientUrl}/v2/stats/leader`)).status).toBe(403);
    const metrics = await (await fetch(`${leader.clientUrl}/metrics`)).text();
    expect(metrics).toMatch(/^etcd_server_is_leader 1$/m);
    expect(metrics).toMatch(/^etcd_network_peer_sent_bytes_total\{To="[0-9a-f]+"\} [1-9]/m);
    expect(metrics).toMatch(/^etcd_network_active_peers\{Local="[0-9a-f]+",Remote="[0-9a-f]+"\} 1$/m);
  }, 30_000);

  it('moves leadership with etcdctl move-leader, and hands it over on a graceful stop', async () => {
    const leader = await leaderOf(ms);
    const target = ms.find((m) => m !== leader)!;
    const ids = new Map((await ctlOk(leader.endpoint, ['member', 'list'])).trim().split('\n').map((l) => [l.split(', ')[2]!, l.split(', ')[0]!]));
    const [targetId, leaderId] = [ids.get(target.name)!, ids.get(leader.name)!];
    expect(await ctlOk(leader.endpoint, ['move-leader', targetId])).toBe(`Leadership transferred from ${leaderId} to ${targetId}\n`);
    expect(await leaderOf(ms)).toBe(target);
    const t0 = Date.now();
    expect(await target.stop()).toEqual({ code: 0, signal: null });
    const rest = ms.filter((m) => m !== target);
    const next = await leaderOf(rest);
    console.log(`graceful stop of the leader: ${next.name} leads ${Date.now() - t0} ms after SIGTERM`);
    expect(await ctlOk(next.endpoint, ['put', 'after-stop', '1'])).toBe('OK\n');
    await target.restart();
    await leaderOf(ms);
  }, 60_000);

  it('survives kill -9 of its leader; the old leader comes back and catches up', async () => {
    const leader = await leaderOf(ms);
    const rest = ms.filter((m) => m !== leader);
    const t0 = Date.now();
    await leader.kill();
    let wrote = false;
    while (!wrote && Date.now() - t0 < 20_000) {
      wrote = (await etcdctl(rest[0]!.endpoint, ['--command-timeout=1s', 'put', 'after', 'failover'], { timeoutMs: 3000 })).code === 0;
    }
    expect(wrote).toBe(true);
    console.log(`failover: first acknowledged write ${Date.now() - t0} ms after kill -9 of the leader`);
    expect(rest).toContain(await leaderOf(rest));
    for (let i = 0; i < 50; i++) await ctlOk(rest[i % 2]!.endpoint, ['put', `more${i}`, 'x']);
    await leader.restart();
    for (let i = 0; i < 50; i++) {
      const [a, b, c] = await hashKvs(ms);
      if (a === b && b === c) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const hashes = await hashKvs(ms);
    expect(new Set(hashes).size).toBe(1);
    expect(await ctlOk(leader.endpoint, ['get', 'after', '--consistency=s'])).toBe('after\nfailover\n');
  }, 90_000);
});

describe('a cluster of five members of ours', () => {
  it('survives the loss of two members, and they catch up when they return', async () => {
    const five = await startCluster(['ours', 'ours', 'ours', 'ours', 'ours'], { token: 'five' });
    const leader = await leaderOf(five);
    const down = five.filter((m) => m !== leader).slice(0, 2);
    for (const m of down) await m.kill();
    const up = five.filter((m) => !down.includes(m));
    for (let i = 0; i < 20; i++) expect(await ctlOk(up[i % 3]!.endpoint, ['put', `five${i}`, `${i}`])).toBe('OK\n');
    for (const m of down) await m.restart();
    let hashes = await hashKvs(five);
    for (let i = 0; i < 50 && new Set(hashes).size > 1; i++) {
      await new Promise((r) => setTimeout(r, 200));
      hashes = await hashKvs(five);
    }
    expect(new Set(hashes).size).toBe(1);
    expect(await ctlOk(down[0]!.endpoint, ['get', 'five19', '--consistency=s'])).toBe('five19\n19\n');
  }, 90_000);
});
