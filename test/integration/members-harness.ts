// Membership steps on clusters of real processes: a member started with --initial-cluster-state
// existing after `member add`, and the helpers the membership tests share. Every process is one the
// harness spawned; cleanup() in harness.ts kills them.
import { join } from 'node:path';
import { ctlOk, etcdctl, freePort, tempDir, type CtlOpts, type Impl } from './harness.js';
import type { Certs } from './certs.js';
import { clusterMember, leaderOf, startCluster, tlsFlags, waitHealthy, type ClusterMember, type MemberPlace } from './cluster-harness.js';

/** A member about to be added: where it will live. */
export type Joiner = MemberPlace;

/** Ports and a data dir for a member about to be added. */
export async function planJoiner(name: string, scheme: 'http' | 'https' = 'http'): Promise<Joiner> {
  const [c, p] = [await freePort(), await freePort()];
  const dir = await tempDir('it-join-');
  return { name, clientUrl: `${scheme}://127.0.0.1:${c}`, peerUrl: `${scheme}://127.0.0.1:${p}`, endpoint: `127.0.0.1:${c}`, dataDir: join(dir, name) };
}

/**
 * Starts a planned member with --initial-cluster-state existing (over mutual TLS with certs, with
 * more environment with env); waits for health unless told not to.
 */
export async function startJoiner(
  impl: Impl, j: Joiner, initialCluster: string, opts: { wait?: boolean; args?: string[]; certs?: Certs; env?: Record<string, string> } = {},
): Promise<ClusterMember> {
  const args = [
    '--name', j.name, '--data-dir', j.dataDir, '--listen-client-urls', j.clientUrl, '--advertise-client-urls', j.clientUrl,
    '--listen-peer-urls', j.peerUrl, '--initial-advertise-peer-urls', j.peerUrl, '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'existing', ...(opts.certs ? tlsFlags(opts.certs) : []), ...(opts.args ?? []),
  ];
  const m = clusterMember(impl, j, args, { certs: opts.certs, env: opts.env });
  if (opts.wait !== false) await waitHealthy([m], opts.certs);
  return m;
}

/** name=peerURL for each member, as --initial-cluster wants them. */
export const initialClusterOf = (ms: Array<{ name: string; peerUrl: string }>): string => ms.map((m) => `${m.name}=${m.peerUrl}`).join(',');

/** The hex id of the member with this peer URL, from `member list -w json`. */
export async function memberIdOf(endpoint: string, peerUrl: string, opts: CtlOpts = {}): Promise<string> {
  const list = JSON.parse((await ctlOk(endpoint, ['member', 'list', '-w', 'json'], opts)).replace(/"ID":(\d+)/g, '"ID":"$1"')) as {
    members: Array<{ ID: string; peerURLs: string[] }>;
  };
  const m = list.members.find((x) => x.peerURLs.includes(peerUrl));
  if (!m) throw new Error(`no member with ${peerUrl}`);
  return BigInt(m.ID).toString(16);
}

/** `endpoint hashkv` of each member, as numbers. */
export async function hashes(endpoints: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const ep of endpoints) {
    const r = JSON.parse(await ctlOk(ep, ['endpoint', 'hashkv', '-w', 'json'])) as Array<{ HashKV: { hash: number } }>;
    out.push(r[0]!.HashKV.hash);
  }
  return out;
}

/**
 * etcdctl, retried while the cluster answers as etcd does for a while after a change: a new leader
 * drops conf changes until its own pending one is applied (the client times out, or the server's
 * request timeout answers first: "etcdserver: request timed out", seen from real etcd on a busy
 * CI host), and strict
 * reconfiguration calls the cluster unhealthy until every link has been up for 5 s, and refuses an
 * add until the members added before have published their attributes (started).
 */
export async function ctlSettled(endpoint: string, args: string[], opts: CtlOpts = {}): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await etcdctl(endpoint, args, opts);
    if (r.code === 0) return r.stdout;
    if (Date.now() > deadline || !/deadline exceeded|request timed out|unhealthy cluster|not enough started members/.test(r.stderr)) {
      throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every 200 ms until it is true; throws after `ms`. */
export async function eventually(f: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(200);
  }
}

/** Waits until every member's hashkv is the same (the last one to apply may lag a moment). */
export async function sameHashes(ms: ClusterMember[]): Promise<void> {
  await eventually(async () => new Set(await hashes(ms.map((m) => m.endpoint))).size === 1, 20_000);
}

/** The keys a member holds, read locally (a learner serves only serializable reads). */
export async function localKeys(m: ClusterMember): Promise<string[]> {
  return (await ctlOk(m.endpoint, ['get', '', '--prefix', '--keys-only', '--consistency=s'])).split('\n').filter((l) => l !== '');
}

export interface Grown {
  ms: ClusterMember[];
  j: ClusterMember;
  /** The joiner's hex id. */
  id: string;
}

/** 20 puts through the members in turn, 5 at a time: `<prefix><i>` = `<impl of the member>-<i>`. */
async function writes(ms: ClusterMember[], prefix: string): Promise<void> {
  for (let i = 0; i < 20; i += 5) {
    await Promise.all([0, 1, 2, 3, 4].map((k) => ctlOk(ms[(i + k) % ms.length]!.endpoint, ['put', `${prefix}${i + k}`, `${ms[(i + k) % ms.length]!.impl}-${i + k}`])));
  }
}

/**
 * A new cluster of `impls` takes 20 writes; a member of `joiner` is added with `member add` (at ms[0]
 * or the member addAt gives; a learner when asked), `beforeStart` runs with its hex id, then it
 * starts with existing and 20 more writes follow, which it holds once it caught up from the log.
 */
export async function grow(
  impls: Impl[],
  joiner: Impl,
  opts: {
    learner?: boolean;
    /** The member asked to add it (ms[0] when not given). */
    addAt?: (ms: ClusterMember[]) => Promise<ClusterMember>;
    beforeStart?: (g: Omit<Grown, 'j'>) => Promise<void>;
    certs?: Certs;
    /** Extra flags for every member, the joiner too. */
    args?: string[];
  } = {},
): Promise<Grown> {
  const ms = await startCluster(impls, { token: `grow-${impls.join('-')}-${joiner}`, certs: opts.certs, args: opts.args });
  const linksUp = sleep(5500); // strict reconfiguration wants the links up for etcd's HealthInterval (5 s)
  await writes(ms, 'before/');
  await linksUp;
  const place = await planJoiner(`m${ms.length}`, opts.certs ? 'https' : 'http');
  const at = opts.addAt ? await opts.addAt(ms) : ms[0]!;
  const out = await ctlOk(at.endpoint, ['member', 'add', place.name, `--peer-urls=${place.peerUrl}`, ...(opts.learner ? ['--learner'] : [])]);
  if (!out.includes('ETCD_INITIAL_CLUSTER_STATE="existing"')) throw new Error(`member add said: ${out}`);
  const id = await memberIdOf(ms[0]!.endpoint, place.peerUrl);
  await opts.beforeStart?.({ ms, id });
  const j = await startJoiner(joiner, place, initialClusterOf([...ms, place]), { certs: opts.certs, args: opts.args });
  await writes(ms, 'after/');
  await eventually(async () => (await localKeys(j)).length === 40);
  return { ms, j, id };
}

/** A member that is not the leader (by its own status), of the implementation asked when given. */
export async function follower(ms: ClusterMember[], impl?: Impl): Promise<ClusterMember> {
  for (const m of ms) {
    if (impl && m.impl !== impl) continue;
    const s = JSON.parse((await ctlOk(m.endpoint, ['endpoint', 'status', '-w', 'json'])).replace(/(\d{16,})/g, '"$1"')) as Array<{
      Status: { header: { member_id: string }; leader: string };
    }>;
    if (s[0]!.Status.header.member_id !== s[0]!.Status.leader) return m;
  }
  throw new Error('no follower');
}

/** Makes `to` the leader (move-leader asked at the current one); `all` are the voters. */
export async function makeLeader(all: ClusterMember[], to: ClusterMember): Promise<void> {
  const toId = await memberIdOf(all[0]!.endpoint, to.peerUrl);
  await eventually(async () => {
    const cur = await leaderOf(all);
    if (cur === to) return true;
    await etcdctl(cur.endpoint, ['move-leader', toId]);
    return false;
  }, 30_000);
}
