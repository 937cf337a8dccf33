// Mixed clusters: members of ours and real etcd 3.4.23 bootstrapped together as one new cluster,
// speaking etcd's peer protocol and entry formats. In each: writes through every member, the same
// member list from every member, equal hashkv across implementations, identical watch events on a
// member of ours and one of etcd, v2 auth (users, roles, the switch: v2 requests under /2) made
// through either implementation holding on every member, and the cluster going on after kill -9 of
// its leader (ours in one run, etcd's in the other). --snapshot-count stays at its default, so no
// snapshot crosses over.
import { afterAll, describe, expect, it } from 'vitest';
import type { Impl } from './harness.js';
import { cleanup, ctlOk, etcdctl } from './harness.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';

afterAll(cleanup);

/** One v2 request: "<status> <body>" (a body is form data for /v2/keys, JSON for /v2/auth). */
async function v2(m: ClusterMember, method: string, path: string, body?: string, user?: string): Promise<string> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (user !== undefined) headers['authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
  const r = await fetch(`${m.clientUrl}${path}`, { method, body, headers, signal: AbortSignal.timeout(10_000) });
  return `${r.status} ${await r.text()}`;
}

async function memberIds(m: ClusterMember): Promise<Map<string, string>> {
  const lines = (await ctlOk(m.endpoint, ['member', 'list'])).trim().split('\n');
  return new Map(lines.map((l) => [l.split(', ')[2]!, l.split(', ')[0]!]));
}

async function leaderName(ms: ClusterMember[]): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const live = ms.filter((m) => m.alive());
    const r = await etcdctl(live.map((m) => m.endpoint).join(','), ['endpoint', 'status', '-w', 'table']);
    const rows = r.stdout.split('\n').filter((l) => /\| +(true|false) +\|/.test(l));
    const leaders = rows.filter((l) => / true +\| +false +\|/.test(l));
    if (r.code === 0 && rows.length === live.length && leaders.length === 1) {
      const ep = /\| (127\.0\.0\.1:\d+) /.exec(leaders[0]!)![1];
      return live.find((m) => m.endpoint === ep)!.name;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error('no agreed leader');
}

async function hashes(ms: ClusterMember[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of ms) {
    const r = JSON.parse(await ctlOk(m.endpoint, ['endpoint', 'hashkv', '-w', 'json'])) as Array<{ HashKV: { hash: number } }>;
    out.add(String(r[0]!.HashKV.hash));
  }
  return out;
}

async function converge(ms: ClusterMember[]): Promise<Set<string>> {
  let h = await hashes(ms);
  for (let i = 0; i < 50 && h.size > 1; i++) {
    await new Promise((r) => setTimeout(r, 200));
    h = await hashes(ms);
  }
  return h;
}

function mixed(impls: Impl[], killed: Impl): void {
  describe(`a cluster of ${impls.join(', ')} (the leader killed is ${killed === 'ours' ? 'ours' : "etcd's"})`, () => {
    let ms: ClusterMember[] = [];

    it('bootstraps as one cluster: every member lists the same members', async () => {
      ms = await startCluster(impls, { token: `mixed-${impls.join('-')}`, args: ['--enable-v2'] });
      const lists = await Promise.all(ms.map((m) => ctlOk(m.endpoint, ['member', 'list'])));
      for (const l of lists) expect(l).toBe(lists[0]);
      expect(lists[0]!.trim().split('\n')).toHaveLength(3);
    }, 90_000);

    it('takes writes through every member, and every implementation holds the same keys (hashkv)', async () => {
      for (const [i, m] of ms.entries()) expect(await ctlOk(m.endpoint, ['put', `k${i}`, `${m.impl}-${i}`])).toBe('OK\n');
      await ctlOk(ms[0]!.endpoint, ['txn'], { input: 'mod("k0") > "0"\n\nput k0 txn\n\nput k0 never\n\n' });
      const lease = /lease ([0-9a-f]+) granted/.exec(await ctlOk(ms[1]!.endpoint, ['lease', 'grant', '100']))![1]!;
      await ctlOk(ms[2]!.endpoint, ['put', 'leased', 'v', '--lease', lease]);
      await ctlOk(ms[2]!.endpoint, ['del', 'k1']);
      for (const m of ms) expect(await ctlOk(m.endpoint, ['get', '', '--prefix'])).toBe('k0\ntxn\nk2\n' + `${ms[2]!.impl}-2\nleased\nv\n`);
      expect((await converge(ms)).size).toBe(1);
    }, 60_000);

    it('a watch on a member of ours and one on etcd see identical events', async () => {
      const oursM = ms.find((m) => m.impl === 'ours')!;
      const etcdM = ms.find((m) => m.impl === 'etcd')!;
      const expectEnd = /PUT\nw\/3\nthree\n$/;
      const w1 = etcdctl(oursM.endpoint, ['watch', 'w/', '--prefix', '--prev-kv'], { killWhen: expectEnd, timeoutMs: 20_000 });
      const w2 = etcdctl(etcdM.endpoint, ['watch', 'w/', '--prefix', '--prev-kv'], { killWhen: expectEnd, timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 800));
      await ctlOk(ms[0]!.endpoint, ['put', 'w/1', 'one']);
      await ctlOk(ms[1]!.endpoint, ['put', 'w/1', 'uno']);
      await ctlOk(ms[2]!.endpoint, ['del', 'w/1']);
      await ctlOk(ms[1]!.endpoint, ['put', 'w/3', 'three']);
      const [a, b] = [(await w1).stdout, (await w2).stdout];
      expect(a).toMatch(expectEnd);
      expect(a).toBe(b);
    }, 40_000);

    it('v2 auth made through either implementation holds on every member', async () => {
      const oursM = ms.find((m) => m.impl === 'ours')!;
      const etcdM = ms.find((m) => m.impl === 'etcd')!;
      const answers: string[] = [];
      // both answer 500 "Not capable of accessing auth feature" until they applied the cluster version
      for (const m of ms) {
        for (let i = 0; i < 50 && (await v2(m, 'GET', '/version')).includes('not_decided'); i++) await new Promise((r) => setTimeout(r, 100));
      }
      expect(await v2(oursM, 'PUT', '/v2/auth/users/root', '{"user":"root","password":"rpw"}')).toBe('201 {"user":"root","roles":["root"]}\n');
      expect(await v2(etcdM, 'PUT', '/v2/auth/roles/reader', '{"role":"reader","permissions":{"kv":{"read":["/foo/*"],"write":[]}}}')).toMatch(/^201 /);
      expect(await v2(oursM, 'PUT', '/v2/auth/users/alice', '{"user":"alice","password":"apw","roles":["reader"]}')).toMatch(/^200 /);
      expect(await v2(oursM, 'PUT', '/v2/keys/foo/a', 'value=1')).toMatch(/^201 /);
      expect(await v2(etcdM, 'PUT', '/v2/auth/enable')).toBe('200 ');
      for (const m of ms) {
        // the checks read the member's own store: wait until it applied the switch
        for (let i = 0; i < 50 && (await v2(m, 'GET', '/v2/auth/enable')) !== '200 {"enabled":true}\n'; i++) await new Promise((r) => setTimeout(r, 100));
        answers.push(await v2(m, 'GET', '/v2/auth/users', undefined, 'root:rpw'), await v2(m, 'GET', '/v2/keys/foo/a', undefined, 'alice:apw'),
          await v2(m, 'PUT', '/v2/keys/foo/a', 'value=2', 'alice:apw'), await v2(m, 'GET', '/v2/auth/users'));
      }
      expect(answers[0]).toMatch(/^200 \{"users":\[\{"user":"alice","roles":\[\{"role":"reader",/);
      expect(answers.slice(1, 4)).toEqual([expect.stringMatching(/^200 \{"action":"get"/), expect.stringMatching(/^401 \{"errorCode":110,/),
        '401 {"message":"Insufficient credentials"}']);
      for (const i of [4, 8]) expect(answers.slice(i, i + 4)).toEqual(answers.slice(0, 4));
      expect(await v2(oursM, 'DELETE', '/v2/auth/enable', undefined, 'root:rpw')).toBe('200 ');
    }, 40_000);

    it('goes on after kill -9 of its leader, and the old leader catches up', async () => {
      const ids = await memberIds(ms[0]!);
      let leader = await leaderName(ms);
      const want = ms.find((m) => m.impl === killed)!;
      if (ms.find((m) => m.name === leader)!.impl !== killed) {
        const cur = ms.find((m) => m.name === leader)!;
        await ctlOk(cur.endpoint, ['move-leader', ids.get(want.name)!]);
        leader = await leaderName(ms);
      }
      const victim = ms.find((m) => m.name === leader)!;
      expect(victim.impl).toBe(killed);
      await victim.kill();
      const rest = ms.filter((m) => m !== victim);
      let ok = false;
      for (let i = 0; i < 20 && !ok; i++) ok = (await etcdctl(rest[i % 2]!.endpoint, ['--command-timeout=1s', 'put', 'after', 'kill'], { timeoutMs: 3000 })).code === 0;
      expect(ok).toBe(true);
      expect(rest.map((m) => m.name)).toContain(await leaderName(rest));
      await victim.restart();
      expect((await converge(ms)).size).toBe(1);
      expect(await ctlOk(victim.endpoint, ['get', 'after', '--consistency=s'])).toBe('after\nkill\n');
    }, 90_000);
  });
}

mixed(['ours', 'etcd', 'etcd'], 'ours');
mixed(['ours', 'ours', 'etcd'], 'etcd');
