// Membership steps on clusters of real processes: a member started with --initial-cluster-state
// existing after `member add`, and the helpers the membership tests share. Every process is one the
// harness spawned; cleanup() in harness.ts kills them.
import { join } from 'node:path';
import { ctlOk, freePort, tempDir, type Impl } from './harness.js';
import { clusterMember, waitHealthy, type ClusterMember, type MemberPlace } from './cluster-harness.js';

/** A member about to be added: where it will live. */
export type Joiner = MemberPlace;

/** Ports and a data dir for a member about to be added. */
export async function planJoiner(name: string): Promise<Joiner> {
  const [c, p] = [await freePort(), await freePort()];
  const dir = await tempDir('it-join-');
  return { name, clientUrl: `http://127.0.0.1:${c}`, peerUrl: `http://127.0.0.1:${p}`, endpoint: `127.0.0.1:${c}`, dataDir: join(dir, name) };
}

/** Starts a planned member with --initial-cluster-state existing; waits for health unless told not to. */
export async function startJoiner(impl: Impl, j: Joiner, initialCluster: string, opts: { wait?: boolean; args?: string[] } = {}): Promise<ClusterMember> {
  const args = [
    '--name', j.name, '--data-dir', j.dataDir, '--listen-client-urls', j.clientUrl, '--advertise-client-urls', j.clientUrl,
    '--listen-peer-urls', j.peerUrl, '--initial-advertise-peer-urls', j.peerUrl, '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'existing', ...(opts.args ?? []),
  ];
  const m = clusterMember(impl, j, args);
  if (opts.wait !== false) await waitHealthy([m]);
  return m;
}

/** name=peerURL for each member, as --initial-cluster wants them. */
export const initialClusterOf = (ms: Array<{ name: string; peerUrl: string }>): string => ms.map((m) => `${m.name}=${m.peerUrl}`).join(',');

/** The hex id of the member with this peer URL, from `member list -w json`. */
export async function memberIdOf(endpoint: string, peerUrl: string): Promise<string> {
  const list = JSON.parse((await ctlOk(endpoint, ['member', 'list', '-w', 'json'])).replace(/"ID":(\d+)/g, '"ID":"$1"')) as {
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
