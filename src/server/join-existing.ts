/*
 * Joining a running cluster (--initial-cluster-state existing), as etcd 3.4's bootstrap does it: GET
 * /members from the other members' peer URLs of --initial-cluster (etcd's GetClusterFromRemotePeers),
 * the cluster id from the X-Etcd-Cluster-ID header, then --initial-cluster checked against the
 * members it answered (ValidateClusterAndAssignIDs: same count, every existing member's peer URLs
 * matched), which gives this member its id. Raft then starts with an empty log and learns the
 * membership from the leader's.
 */
import type { Member } from '../membership/index.js';
import type { PeerClientTls } from '../transport/dial.js';
import type { MemberIo } from './io.js';
import { parseMembersJson } from './membership-changes.js';

/** etcd asks each peer URL with this timeout. */
export const REMOTE_PEERS_TIMEOUT_MS = 10_000;

export interface ExistingCluster {
  clusterId: bigint;
  members: Member[];
}

async function getMembers(io: Pick<MemberIo, 'peerGet'>, url: string, tls: PeerClientTls | undefined, timeoutMs: number): Promise<ExistingCluster> {
  const res = await io.peerGet(url, '/members', tls, timeoutMs);
  const header = res.headers['x-etcd-cluster-id'];
  if (res.status !== 200 || typeof header !== 'string') throw new Error(`status ${res.status}`);
  return { clusterId: BigInt(`0x${header}`), members: parseMembersJson(res.body.toString('utf8')) };
}

/**
 * The cluster as the first peer URL that answers describes it; etcd's error when none does. The GETs
 * go through the member's io (io.ts peerGet: HTTP in production, the simulated network in the sim).
 */
export async function fetchExistingCluster(io: Pick<MemberIo, 'peerGet'>, urls: string[], tls: PeerClientTls | undefined): Promise<ExistingCluster> {
  for (const url of urls) {
    try {
      return await getMembers(io, url, tls, REMOTE_PEERS_TIMEOUT_MS);
    } catch {
      // the next URL
    }
  }
  throw new BootstrapError('cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs');
}

/** Go's %+v of a *membership.Member, as etcd's RaftCluster.String() lists them. */
function goMember(m: Member): string {
  return `&{ID:${m.id.toString(16)} RaftAttributes:{PeerURLs:[${m.peerURLs.join(' ')}] IsLearner:${String(m.isLearner)}} ` +
    `Attributes:{Name:${m.name} ClientURLs:[${m.clientURLs.join(' ')}]}}`;
}

function goCluster(c: ExistingCluster): string {
  return `{ClusterID:${c.clusterId.toString(16)} Members:[${c.members.map(goMember).join(' ')}] RemovedMemberIDs:[]}`;
}

/** A start-up refusal of the join, in etcd's words: printed as the one line the member exits with. */
export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

const goQuoted = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/**
 * etcd's netutil.URLStringsEqual for URLs that need no name resolution: undefined when they are the
 * same set, else its error text (the lengths, or the first pair that differs once both are sorted).
 */
function urlsDiffer(a: string[], b: string[]): string | undefined {
  if (a.length !== b.length) return `len(${goQuoted(a)}) != len(${goQuoted(b)})`;
  const [x, y] = [[...a].sort(), [...b].sort()];
  const i = x.findIndex((u, k) => u !== y[k]);
  return i < 0 ? undefined : `resolved urls: ${JSON.stringify(x[i])} != ${JSON.stringify(y[i])}`;
}

const byId = (a: Member, b: Member): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * etcd's ValidateClusterAndAssignIDs: the local members (from --initial-cluster) with the existing ids.
 * Both lists are walked in id order (the local ids are those --initial-cluster-token gives), so the
 * "last resolver error" is the comparison with the local member of the highest id, as etcd's.
 */
export function assignExistingIds(local: Member[], existing: ExistingCluster): Member[] {
  const fail = (why: string): Error => new BootstrapError(`error validating peerURLs ${goCluster(existing)}: ${why}`);
  if (existing.members.length !== local.length) throw fail('member count is unequal');
  const out = local.map((m) => ({ ...m })).sort(byId);
  for (const e of [...existing.members].sort(byId)) {
    let last: string | undefined;
    const match = out.find((m) => (last = urlsDiffer(e.peerURLs, m.peerURLs)) === undefined);
    if (!match) {
      throw fail(`PeerURLs: no match found for existing member (${e.id.toString(16)}, [${e.peerURLs.join(' ')}]), last resolver error (${last ?? '<nil>'})`);
    }
    match.id = e.id;
  }
  return out;
}
