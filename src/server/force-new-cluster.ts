/*
 * --force-new-cluster: a member restarts from its data as the only voter of its cluster, as etcd 3.4's
 * restartAsStandaloneNode does. The entries after the WAL's commit index are dropped; conf-change
 * entries removing every other member (and adding this one if it was not a member) are appended at
 * the old term and committed by fiat. Applying them rewrites the membership through the log, so the
 * removed members are recorded as removed (their peer connections refused) and raft's configuration
 * becomes this member alone. Cluster id and data are kept.
 */
import { encodeConfChangeMember, type Member } from '../membership/index.js';
import { decodeConfChange, encodeConfChange, type Snapshot } from '../raft/index.js';
import { ConfChangeType, EntryType, type Entry, type HardState } from '../raft/types.js';

/** The ids a snapshot's voters and the entries' conf changes leave in the cluster, sorted (etcd's getIDs). */
export function idsInLog(snapshot: Snapshot | undefined, entries: readonly Entry[]): bigint[] {
  const ids = new Set<bigint>(snapshot?.metadata.confState.voters ?? []);
  for (const e of entries) {
    if (e.type !== EntryType.EntryConfChange) continue;
    const cc = decodeConfChange(e.data);
    if (cc.type === ConfChangeType.ConfChangeAddNode || cc.type === ConfChangeType.ConfChangeAddLearnerNode) ids.add(cc.nodeId);
    else if (cc.type === ConfChangeType.ConfChangeRemoveNode) ids.delete(cc.nodeId);
  }
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The entries that leave `self` alone (etcd's createConfigChangeEnts): an add of itself first when it
 * is missing (raft must never be left without a voter), with etcd's placeholder peer URL, then a
 * remove of every other id; at `term`, from index `commit` + 1.
 */
export function standaloneEntries(ids: readonly bigint[], self: bigint, term: number, commit: number): Entry[] {
  const out: Entry[] = [];
  let index = commit + 1;
  const push = (data: Uint8Array): void => {
    out.push({ term, index: index++, type: EntryType.EntryConfChange, data });
  };
  if (!ids.includes(self)) {
    const m: Member = { id: self, name: '', peerURLs: ['http://localhost:2380'], clientURLs: [], isLearner: false };
    push(encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: self, id: 0n, context: encodeConfChangeMember(m) }));
  }
  for (const id of ids) {
    if (id !== self) push(encodeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id, id: 0n }));
  }
  return out;
}

/** The log and hard state a forced restart starts from: uncommitted entries dropped, the forced ones committed. */
export function forceStandalone(
  self: bigint, snapshot: Snapshot | undefined, hardState: HardState, entries: Entry[],
): { entries: Entry[]; forced: Entry[]; hardState: HardState; discarded: number } {
  const kept = entries.filter((e) => e.index <= hardState.commit);
  const forced = standaloneEntries(idsInLog(snapshot, kept), self, hardState.term, hardState.commit);
  const all = [...kept, ...forced];
  const commit = all.length > 0 ? all[all.length - 1]!.index : hardState.commit;
  return { entries: all, forced, hardState: { ...hardState, commit }, discarded: entries.length - kept.length };
}
