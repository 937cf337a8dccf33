/*
 * Joining a running cluster (--initial-cluster-state existing), as etcd 3.4's bootstrap does it: GET
 * /members from the other members' peer URLs of --initial-cluster (etcd's GetClusterFromRemotePeers),
 * the cluster id from the X-Etcd-Cluster-ID header, then --initial-cluster checked against the
 * members it answered (ValidateClusterAndAssignIDs: same count, every existing member's peer URLs
 * matched), which gives this member its id. Raft then starts with an empty log and learns the
 * membership from the leader's.
 */
import type { Member } from '../membership/index.js';
import { Dialer, type PeerClientTls } from '../transport/dial.js';
import { parseMembersJson } from './membership-changes.js';

/** etcd asks each peer URL with this timeout. */
export const REMOTE_PEERS_TIMEOUT_MS = 10_000;

export interface ExistingCluster {
  clusterId: bigint;
  members: Member[];
}

async function getMembers(dialer: Dialer, url: string, timeoutMs: number): Promise<ExistingCluster> {
  const res = await dialer.exchange(url, { method: 'GET', path: '/members', headers: {}, pooled: false, timeoutMs });
  const header = res.headers['x-etcd-cluster-id'];
  if (res.status !== 200 || typeof header !== 'string') throw new Error(`status ${res.status}`);
  return { clusterId: BigInt(`0x${header}`), members: parseMembersJson(res.body.toString('utf8')) };
}

/** The cluster as the first peer URL that answers describes it; etcd's error when none does. */
export async function fetchExistingCluster(urls: string[], tls: PeerClientTls | undefined): Promise<ExistingCluster> {
  const dialer = new Dialer(tls);
  try {
    for (const url of urls) {
      try {
        return await getMembers(dialer, url, REMOTE_PEERS_TIMEOUT_MS);
      } catch {
        // the next URL
      }
    }
  } finally {
    dialer.close();
  }
  throw new Error('cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs');
}

/** Go's %+v of a *membership.Member, as etcd's RaftCluster.String() lists them. */
function goMember(m: Member): string {
  return `&{ID:${m.id.toString(16)} RaftAttributes:{PeerURLs:[${m.peerURLs.join(' ')}] IsLearner:${String(m.isLearner)}} ` +
    `Attributes:{Name:${m.name} ClientURLs:[${m.clientURLs.join(' ')}]}}`;
}

function goCluster(c: ExistingCluster): string {
  return `{ClusterID:${c.clusterId.toString(16)} Members:[${c.members.map(goMember).join(' ')}] RemovedMemberIDs:[]}`;
}

const sameUrls = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

/** etcd's ValidateClusterAndAssignIDs: the local members (from --initial-cluster) with the existing ids. */
export function assignExistingIds(local: Member[], existing: ExistingCluster): Member[] {
  const fail = (why: string): Error => new Error(`error validating peerURLs ${goCluster(existing)}: ${why}`);
  if (existing.members.length !== local.length) throw fail('member count is unequal');
  const out = local.map((m) => ({ ...m }));
  for (const e of existing.members) {
    const match = out.find((m) => sameUrls(m.peerURLs, e.peerURLs));
    if (!match) throw fail(`PeerURLs: no match found for existing member (${e.id.toString(16)}, [${e.peerURLs.join(' ')}]), last resolver error (<nil>)`);
    match.id = e.id;
  }
  return out;
}
