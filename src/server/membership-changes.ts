/*
 * Membership changes as etcd 3.4's server makes them (AddMember, RemoveMember, UpdateMember,
 * PromoteMember): the --strict-reconfig-check refusals first (mayAddMember, mayRemoveMember,
 * mayPromoteMember), then a conf change with a fresh proposal id, waited for until applied, where
 * etcd's validation may still refuse it (conf-change-check.ts). A promotion is judged by the leader
 * only (its raft progress tells whether the learner caught up); a follower forwards it to the leader's
 * peer URL, POST /members/promote/<id>, as etcd does.
 */
import { sleep, type Clock } from '../pkg/clock.js';
import { systemClock } from '../platform/clock.js';
import { computeMemberId, encodeConfChangeMember, encodePromoteContext, type Member, type RaftCluster } from '../membership/index.js';
import type { EtcdMetrics } from '../pkg/metrics.js';
import type { Status } from '../raft/index.js';
import { ConfChangeType, type ConfChange } from '../raft/types.js';
import { EtcdError } from './errors.js';

/** etcd's HealthInterval: a peer counts as connected once its link has been up this long. */
export const HEALTH_INTERVAL_MS = 5000;
/** etcd's readyPercent: a learner is ready when its match reaches 90% of the leader's. */
export const LEARNER_READY_PERCENT = 0.9;

export interface MembershipChangeHost {
  readonly memberId: bigint;
  readonly cluster: RaftCluster;
  readonly lead: bigint;
  readonly raftStatus: Status;
  readonly cfg: { strictReconfigCheck?: boolean; requestTimeoutMs: number };
  /** Counts etcd_server_learner_promote_successes when given. */
  readonly metrics?: EtcdMetrics;
  readonly peers: {
    transport: { activeSince(id: bigint): number };
    postToMember(id: bigint, path: string, body: Uint8Array, timeoutMs: number): Promise<{ status: number; body: Buffer }>;
  };
  proposeConfChange(cc: ConfChange): Promise<void>;
  waitLeader(deadlineMs: number): Promise<bigint>;
  /** The member's clock (default the system's). */
  readonly io?: { clock: Clock };
}

const voters = (c: RaftCluster): Member[] => c.members().filter((m) => !m.isLearner);
const started = (m: Member): boolean => m.name !== '';

/** etcd's IsReadyToAddVotingMember. */
function readyToAddVoter(c: RaftCluster): boolean {
  const vs = voters(c);
  const nmembers = vs.length + 1;
  const nstarted = vs.filter(started).length;
  if (nstarted === 1 && nmembers === 2) return true;
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

/** etcd's IsReadyToRemoveVotingMember. */
function readyToRemoveVoter(c: RaftCluster, id: bigint): boolean {
  const vs = voters(c).filter((m) => m.id !== id);
  return vs.filter(started).length >= Math.floor(vs.length / 2) + 1;
}

/** etcd's IsReadyToPromoteMember: the learner counts as a started member of the future quorum. */
function readyToPromote(c: RaftCluster): boolean {
  const vs = voters(c);
  return vs.filter(started).length + 1 >= Math.floor((vs.length + 1) / 2) + 1;
}

/** Member ids in etcd's /members JSON are numbers beyond 2^53: read them as text. */
export function parseMembersJson(text: string): Member[] {
  const raw = JSON.parse(text.replace(/"id":(\d+)/g, '"id":"$1"')) as Array<{
    id: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean;
  }>;
  return raw.map((m) => ({
    id: BigInt(m.id), name: m.name ?? '', peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], isLearner: m.isLearner === true,
  }));
}

export class MembershipChanges {
  constructor(private readonly s: MembershipChangeHost) {}

  private get clock(): Clock {
    return this.s.io?.clock ?? systemClock;
  }

  private get strict(): boolean {
    return this.s.cfg.strictReconfigCheck !== false;
  }

  /** Peers (and this member) whose links have been up for HEALTH_INTERVAL_MS (etcd's numConnectedSince). */
  private connected(members: Member[]): number {
    const before = this.clock.now() - HEALTH_INTERVAL_MS;
    return members.filter((m) => {
      if (m.id === this.s.memberId) return true;
      const since = this.s.peers.transport.activeSince(m.id);
      return since !== 0 && since < before;
    }).length;
  }

  /** The new member as etcd's NewMember("", urls, "", now) makes it: its id from the URLs and the time. */
  async add(peerURLs: string[], isLearner: boolean): Promise<{ member: Member; members: Member[] }> {
    const urls = [...peerURLs].sort();
    const member: Member = {
      id: computeMemberId(urls, '', Math.floor(this.clock.now() / 1000)), name: '', peerURLs: urls, clientURLs: [], isLearner,
    };
    if (this.strict) {
      if (!isLearner && !readyToAddVoter(this.s.cluster)) throw new EtcdError('MemberNotEnoughStarted');
      const vs = voters(this.s.cluster);
      if (this.connected(vs) !== vs.length) throw new EtcdError('Unhealthy');
    }
    const type = isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode;
    await this.s.proposeConfChange({ type, nodeId: member.id, context: encodeConfChangeMember(member) });
    return { member, members: this.s.cluster.members() };
  }

  async remove(id: bigint): Promise<Member[]> {
    if (this.strict) this.mayRemove(id);
    await this.s.proposeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id });
    return this.s.cluster.members();
  }

  /** etcd's mayRemoveMember. */
  private mayRemove(id: bigint): void {
    const c = this.s.cluster;
    if (c.member(id)?.isLearner) return;
    if (!readyToRemoveVoter(c, id)) throw new EtcdError('MemberNotEnoughStarted');
    if (id !== this.s.memberId && this.s.peers.transport.activeSince(id) === 0) return; // a down member is safe to remove
    const vs = voters(c);
    if (this.connected(vs) - 1 < 1 + Math.floor((vs.length - 1) / 2)) throw new EtcdError('Unhealthy');
  }

  /** etcd's UpdateMember: new peer URLs, the learner flag as the request gives it (false). */
  async update(id: bigint, peerURLs: string[]): Promise<Member[]> {
    const member: Member = { id, name: '', peerURLs: [...peerURLs].sort(), clientURLs: [], isLearner: false };
    await this.s.proposeConfChange({ type: ConfChangeType.ConfChangeUpdateNode, nodeId: id, context: encodeConfChangeMember(member) });
    return this.s.cluster.members();
  }

  /**
   * etcd's PromoteMember: at the leader, or forwarded to it over the peer URLs until it answers, the
   * request timeout passes or the caller goes away (`signal`: etcd's request context).
   */
  async promote(id: bigint, signal?: AbortSignal): Promise<Member[]> {
    try {
      return await this.promoteAtLeader(id);
    } catch (err) {
      if (!(err instanceof EtcdError && err.code === 'NotLeader')) throw err;
    }
    const deadline = this.clock.now() + this.s.cfg.requestTimeoutMs;
    while (this.clock.now() < deadline) {
      if (signal?.aborted === true) throw new EtcdError('Canceled');
      const leader = await this.s.waitLeader(deadline);
      const r = await this.s.peers
        .postToMember(leader, `/members/promote/${id.toString()}`, new Uint8Array(0), Math.max(1, deadline - this.clock.now()))
        .catch(() => undefined);
      if (r?.status === 200) return parseMembersJson(r.body.toString('utf8'));
      const text = r?.body.toString('utf8') ?? '';
      if (r?.status === 404) throw new EtcdError('MemberNotFound');
      if (r?.status === 412 && text.includes('in sync with leader')) throw new EtcdError('LearnerNotReady');
      if (r?.status === 412 && text.includes('can only promote a learner member')) throw new EtcdError('MemberNotLearner');
      await sleep(this.clock, 100);
    }
    throw new EtcdError('Timeout');
  }

  /** etcd's promoteMember: NotLeader at a follower; LearnerNotReady while the learner's match is behind. */
  async promoteAtLeader(id: bigint): Promise<Member[]> {
    const st = this.s.raftStatus;
    if (this.s.lead !== this.s.memberId || !st.progress) throw new EtcdError('NotLeader');
    const learner = st.progress.get(id);
    const leaderMatch = st.progress.get(st.id)?.match ?? 0;
    if (learner && learner.match < leaderMatch * LEARNER_READY_PERCENT) throw new EtcdError('LearnerNotReady');
    if (this.strict && !readyToPromote(this.s.cluster)) throw new EtcdError('MemberNotEnoughStarted');
    await this.s.proposeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: id, context: encodePromoteContext(id) });
    (this.s.metrics?.byName.get('etcd_server_learner_promote_successes') as { inc(): void } | undefined)?.inc();
    return this.s.cluster.members();
  }
}
