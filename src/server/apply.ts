/*
 * The apply loop: committed entries in log order, on every member alike.
 *
 * An entry at or below the backend's consistent index was applied before a restart and is skipped for
 * the backend-held state (v3 keys, leases, alarms, members, cluster version); the v2 store and its /0
 * mirror live in memory only and are rebuilt from the snapshot and the WAL, so they apply on every
 * replay; conf changes always reach raft (its configuration is rebuilt from the log). The proposing
 * client's waiter is triggered with the applied result: a V3Result, a V2Outcome or an EtcdError.
 */
import type { Backend } from '../backend/index.js';
import type { Lessor } from '../lease/index.js';
import { decodeConfChangeContext, decodeMemberAttributes, idToHex, parseHexId, type RaftCluster } from '../membership/index.js';
import type { WaitRegistry } from '../pkg/wait.js';
import { decodeConfChange, type RawNode } from '../raft/index.js';
import { ConfChangeType, EntryType, type ConfState, type Entry } from '../raft/types.js';
import {
  mirrorClusterVersion, mirrorMemberAdd, mirrorMemberAttributes, mirrorMemberRaftAttributes, mirrorMemberRemove, type V2Store,
} from '../v2store/index.js';
import { applyV2, type V2Outcome } from './apply-v2.js';
import type { V3Result } from './apply-v3.js';
import { EtcdError } from './errors.js';
import { validateConfChange } from './conf-change-check.js';
import { decodeEntry, onlyBackendState, type InternalRaftRequest, type V2Request } from './internal-request.js';
import { CLUSTER_VERSION_KEY } from './stores.js';

export type ApplyOutcome = V3Result | V2Outcome;

/** etcd's storeMemberAttributeRegexp (anchored here: a user key under /1 is never a member's attributes). */
const MEMBER_ATTRIBUTES_PATH = /^\/0\/members\/([0-9a-fA-F]{1,16})\/attributes$/;
/** etcd's StoreClusterVersionKey. */
export const CLUSTER_VERSION_PATH = '/0/version';

export interface ApplyDeps {
  node(): RawNode;
  backend: Backend;
  cluster: RaftCluster;
  v2: V2Store;
  /** The v3 applier (auth checks around quota around the stores). */
  v3: { apply(index: number, req: InternalRaftRequest): V3Result | EtcdError };
  lessor: Lessor;
  /** Proposals' waiters: a result resolves one, an EtcdError the apply refused with rejects it. */
  waits: WaitRegistry<ApplyOutcome>;
  /** Whether this member leads in `term` right now (a new leader's first entry starts its leases). */
  leadsInTerm(term: number): boolean;
  now(): number;
  electionTimeoutMs: number;
  /** This member's own removal applied (etcd stops the member shortly after). */
  onRemovedSelf?(): void;
}

export class EntryApplier {
  clusterVersion = '';

  constructor(
    private readonly d: ApplyDeps,
    public appliedIndex: number,
    public confState: ConfState,
  ) {}

  applyEntries(entries: Entry[]): void {
    const { backend } = this.d;
    for (const e of entries) {
      if (e.index <= this.appliedIndex) continue;
      backend.beginApply(e.index);
      if (e.type === EntryType.EntryConfChange) this.applyConfChange(e);
      else if (e.data.length === 0) this.applyEmpty(e);
      else this.applyNormal(e);
      backend.endApply();
      this.appliedIndex = e.index;
    }
  }

  /**
   * etcd's applyConfChange: the context of an add is a ConfigChangeContext (a member, or a learner's
   * promotion), of an update a member; a remove has none. A change without a context (raft's own
   * bootstrap in tests) changes raft's configuration only.
   */
  private applyConfChange(e: Entry): void {
    const { backend, cluster, v2 } = this.d;
    const cc = decodeConfChange(e.data);
    const fresh = e.index > backend.consistentIndex();
    const idHex = idToHex(cc.nodeId);
    const context = cc.context !== undefined && cc.context.length > 0 ? decodeConfChangeContext(cc.context) : undefined;
    if (context && context.member.id !== cc.nodeId) {
      throw new Error(`conf change of ${idHex} carries member ${idToHex(context.member.id)} (etcd: nodeID should always be equal to member ID)`);
    }
    const refused = validateConfChange(v2, cc, context);
    if (refused !== undefined) {
      // etcd: raft sees the change with node id 0 (a no-op), the proposer the error
      this.confState = this.d.node().applyConfChange({ ...cc, nodeId: 0n });
      if (fresh) backend.setConsistentIndex(e.index);
      if (cc.id !== undefined && cc.id !== 0n) this.d.waits.fail(cc.id, new EtcdError(refused));
      return;
    }
    this.confState = this.d.node().applyConfChange(cc);
    // The v2 mirror and the backend are judged apart: on replay the mirror starts over while the
    // backend is already ahead.
    if (cc.type === ConfChangeType.ConfChangeAddNode || cc.type === ConfChangeType.ConfChangeAddLearnerNode) {
      if (context?.isPromote) {
        const peerURLs = cluster.member(cc.nodeId)?.peerURLs ?? [];
        if (this.v2HasMember(idHex)) mirrorMemberRaftAttributes(v2, idHex, { peerURLs }, 0);
        if (fresh) cluster.promote(cc.nodeId);
      } else if (context) {
        const m = context.member;
        if (!this.v2HasMember(idHex)) mirrorMemberAdd(v2, idHex, { peerURLs: m.peerURLs, isLearner: m.isLearner }, 0);
        if (fresh && !cluster.member(m.id)) cluster.addMember(m);
      }
    } else if (cc.type === ConfChangeType.ConfChangeRemoveNode) {
      mirrorMemberRemove(v2, idHex, 0);
      if (fresh) cluster.removeMember(cc.nodeId);
      if (cc.nodeId === cluster.localId) this.d.onRemovedSelf?.();
    } else if (cc.type === ConfChangeType.ConfChangeUpdateNode && context) {
      const m = context.member;
      if (this.v2HasMember(idHex)) mirrorMemberRaftAttributes(v2, idHex, { peerURLs: m.peerURLs, isLearner: m.isLearner }, 0);
      if (fresh) cluster.updateRaftAttributes(m.id, m.peerURLs, m.isLearner);
    }
    if (fresh) backend.setConsistentIndex(e.index);
    if (cc.id !== undefined && cc.id !== 0n) this.d.waits.trigger(cc.id, { kind: 'none' });
  }

  /** A new leader's first entry: leases start counting from now (etcd's lessor promote). */
  private applyEmpty(e: Entry): void {
    if (this.d.leadsInTerm(e.term)) this.d.lessor.promote(this.d.now(), this.d.electionTimeoutMs);
    if (e.index > this.d.backend.consistentIndex()) this.d.backend.setConsistentIndex(e.index);
  }

  private applyNormal(e: Entry): void {
    const { backend } = this.d;
    // Replay after a restart: applied before it, and nothing of it outside the backend (see below).
    if (e.index <= backend.consistentIndex() && onlyBackendState(e.data)) return;
    const entry = decodeEntry(e.data);
    const fresh = e.index > backend.consistentIndex();
    let result: ApplyOutcome | EtcdError;
    if (entry.kind === 'v2') result = this.applyV2Request(entry.req, fresh);
    else if (fresh) result = this.d.v3.apply(e.index, entry.req);
    else return;
    if (fresh) backend.setConsistentIndex(e.index);
    if (result instanceof EtcdError) this.d.waits.fail(entry.id, result);
    else this.d.waits.trigger(entry.id, result);
  }

  /**
   * A bare Request: a member's attribute publication and the cluster version are plain PUTs of their
   * /0 paths (etcd's applierV2store.Put, default branch); everything else is the v2 store's.
   */
  private applyV2Request(r: V2Request, fresh: boolean): ApplyOutcome {
    const { backend, cluster, v2 } = this.d;
    if (r.Method === 'PUT' && r.PrevExist === undefined && r.PrevIndex === 0n && r.PrevValue === '') {
      const attributes = MEMBER_ATTRIBUTES_PATH.exec(r.Path);
      if (attributes) {
        const id = parseHexId(attributes[1]!);
        const a = decodeMemberAttributes(r.Val);
        mirrorMemberAttributes(v2, idToHex(id), a, 0);
        if (fresh) cluster.updateAttributes(id, a.name, a.clientURLs);
        return { kind: 'none' };
      }
      if (r.Path === CLUSTER_VERSION_PATH) {
        mirrorClusterVersion(v2, r.Val, 0);
        this.clusterVersion = r.Val;
        if (fresh) backend.put('cluster', CLUSTER_VERSION_KEY, Buffer.from(r.Val));
        return { kind: 'none' };
      }
    }
    return applyV2(v2, r, this.d.now());
  }

  private v2HasMember(idHex: string): boolean {
    try {
      this.d.v2.getPath(`/0/members/${idHex}/raftAttributes`, {}, 0);
      return true;
    } catch {
      return false;
    }
  }
}
