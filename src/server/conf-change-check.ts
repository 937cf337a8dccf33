/*
 * etcd's ValidateConfigurationChange, run when a conf change applies: judged against the members and
 * removed ids of the v2 store's /0 mirror (as etcd's membersFromStore), which is rebuilt from the
 * snapshot and the log on every start, so a replay decides exactly as the first apply did. A refused
 * change is neutralized (node id 0) before it reaches raft, and its proposer gets the error.
 */
import type { Member } from '../membership/index.js';
import { ConfChangeType, type ConfChange } from '../raft/types.js';
import { V2Error, type V2NodeJson, type V2Store } from '../v2store/index.js';
import type { EtcdErrorCode } from './errors.js';

/** etcd 3.4's maxLearners. */
export const MAX_LEARNERS = 1;

interface StoredMember {
  peerURLs: string[];
  isLearner: boolean;
}

/** The children of a /0 directory; undefined when it does not exist (a counted, failed get). */
function childrenOf(v2: V2Store, path: string): V2NodeJson[] | undefined {
  try {
    return v2.counted('gets', () => v2.getPath(path, { recursive: true, sorted: true }, 0)).node.nodes ?? [];
  } catch (err) {
    if (err instanceof V2Error) return undefined;
    throw err;
  }
}

const lastSegment = (key: string | undefined): bigint => BigInt(`0x${(key ?? '').split('/').pop() ?? '0'}`);

/** etcd's membersFromStore: the members' raft attributes and the removed ids. */
export function membersFromV2(v2: V2Store): { members: Map<bigint, StoredMember>; removed: Set<bigint> } {
  const members = new Map<bigint, StoredMember>();
  const dirs = childrenOf(v2, '/0/members');
  // etcd returns at once when there are no members yet: the removed list is not read (nor counted)
  if (dirs === undefined) return { members, removed: new Set() };
  for (const dir of dirs) {
    const raft = (dir.nodes ?? []).find((n) => n.key?.endsWith('/raftAttributes'));
    if (raft?.value === undefined) continue;
    const a = JSON.parse(raft.value) as { peerURLs: string[] | null; isLearner?: boolean };
    members.set(lastSegment(dir.key), { peerURLs: a.peerURLs ?? [], isLearner: a.isLearner === true });
  }
  const removed = new Set((childrenOf(v2, '/0/removed_members') ?? []).map((n) => lastSegment(n.key)));
  return { members, removed };
}

function urlTaken(members: Map<bigint, StoredMember>, urls: readonly string[], except?: bigint): boolean {
  const taken = new Set<string>();
  for (const [id, m] of members) if (id !== except) for (const u of m.peerURLs) taken.add(u);
  return urls.some((u) => taken.has(u));
}

/** The error etcd's validation gives for this change, or undefined when it may apply. */
export function validateConfChange(
  v2: V2Store,
  cc: ConfChange,
  context: { member: Member; isPromote: boolean } | undefined,
): EtcdErrorCode | undefined {
  const { members, removed } = membersFromV2(v2);
  const id = cc.nodeId;
  if (removed.has(id)) return 'MemberRemoved';
  const existing = members.get(id);
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
    case ConfChangeType.ConfChangeAddLearnerNode: {
      if (context?.isPromote) {
        if (!existing) return 'MemberNotFound';
        return existing.isLearner ? undefined : 'MemberNotLearner';
      }
      if (existing) return 'MemberExist';
      if (urlTaken(members, context?.member.peerURLs ?? [])) return 'PeerURLExist';
      const learners = [...members.values()].filter((m) => m.isLearner).length;
      if (context?.member.isLearner && learners + 1 > MAX_LEARNERS) return 'TooManyLearners';
      return undefined;
    }
    case ConfChangeType.ConfChangeRemoveNode:
      return existing ? undefined : 'MemberNotFound';
    case ConfChangeType.ConfChangeUpdateNode:
      if (!existing) return 'MemberNotFound';
      return urlTaken(members, context?.member.peerURLs ?? [], id) ? 'PeerURLExist' : undefined;
    default:
      return undefined;
  }
}
