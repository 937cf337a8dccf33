// Membership steps on clusters of real processes: a member started with --initial-cluster-state
// existing after `member add`, and the helpers the membership tests share. Every process is one the
// harness spawned; cleanup() in harness.ts kills them.
import { join } from 'node:path';
import { ctlOk, etcdctl, freePort, tempDir, type CtlOpts, type Impl } from './harness.js';
import type { Certs } from './certs.js';
import { clusterMember, tlsFlags, waitHealthy, type ClusterMember, type MemberPlace } from './cluster-harness.js';

/** A member about to be added: where it will live. */
export type Joiner = MemberPlace;

/** Ports and a data dir for a member about to be added. */
export async function planJoiner(name: string, scheme: 'http' | 'https' = 'http'): Promise<Joiner> {
  const [c, p] = [await freePort(), await freePort()];
  const dir = await tempDir('it-join-');
  return { name, clientUrl: `${scheme}://127.0.0.1:${c}`, peerUrl: `${scheme}://127.0.0.1:${p}`, endpoint: `127.0.0.1:${c}`, dataDir: join(dir, name) };
}

/**
 * Starts a planned member with --initial-cluster-state existing (over mutual TLS with certs); waits
 * for health unless told not to.
 */
export async function startJoiner(
  impl: Impl, j: Joiner, initialCluster: string, opts: { wait?: boolean; args?: string[]; certs?: Certs } = {},
): Promise<ClusterMember> {
  const args = [
    '--name', j.name, '--data-dir', j.dataDir, '--listen-client-urls', j.clientUrl, '--advertise-client-urls', j.clientUrl,
    '--listen-peer-urls', j.peerUrl, '--initial-advertise-peer-urls', j.peerUrl, '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'existing', ...(opts.certs ? tlsFlags(opts.certs) : []), ...(opts.args ?? []),
  ];
  const m = clusterMember(impl, j, args, { certs: opts.certs });
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
 * drops conf changes until its own pending one is applied (the client times out), and strict
 * reconfiguration calls the cluster unhealthy until every link has been up for 5 s.
 */
export async function ctlSettled(endpoint: string, args: string[], opts: CtlOpts = {}): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await etcdctl(endpoint, args, opts);
    if (r.code === 0) return r.stdout;
    if (Date.now() > deadline || !/deadline exceeded|unhealthy cluster/.test(r.stderr)) {
      throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
