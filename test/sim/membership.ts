// Membership changes in the simulated cluster, driven as an operator drives etcd 3.4's member API: add a
// member under a fresh id (voter, or `--learner`) and then start its process with an empty disk; promote a
// learner once it has caught up; remove a follower, a learner or the leader itself. Each change is one
// ConfChange v1 proposed to the leader; raft refuses a second while one is pending (it commits an empty
// entry instead). With etcd's --strict-reconfig-check (on by default; off in some seeds): no voter is
// added unless every voter is connected, and no connected voter is removed if the rest would fall short
// of a quorum. A learner is promoted only within 90% of the leader's log (etcd's isLearnerReady; some
// seeds skip it, to stress raft). The demotion of a voter is raft's, not etcd's.
//
// The register of the cluster: the committed index at which each id was removed. A member knows of a
// removal once it has applied that index, and then, as etcd's transport: it sends nothing to that peer and
// refuses its messages; the refused member learns it was removed and stops (etcd's errMemberRemoved, met
// on a message or on redialling its streams). A member stops by itself shortly after applying its own
// removal; a removed member never restarts.
import { type ConfChange, ConfChangeType, type ConfState, ErrProposalDropped, type NodeId } from '../../src/raft/index.js';
import type { Rng } from './rng.js';
import type { SimNode } from './node.js';

/** Bound on the members of a configuration (voters and learners). */
export const maxClusterSize = 7;
/** Most ticks the operator takes to start the new member's process once `member add` returned. */
const startDelayTicksMax = 20;
/** etcd's isLearnerReady: a learner's match must be at least this fraction of the leader's. */
const learnerReadyFraction = 0.9;

export interface MembershipStats {
  membersAdded: number;
  learnersAdded: number;
  membersRemoved: number;
  leaderRemovals: number;
  promotions: number;
  /** Snapshots installed by a member that started empty (fresh id). */
  freshSnapshots: number;
  /** Snapshots installed by a learner that had fallen behind (not a fresh one). */
  learnerSnapshots: number;
}

export function emptyMembershipStats(): MembershipStats {
  return { membersAdded: 0, learnersAdded: 0, membersRemoved: 0, leaderRemovals: 0, promotions: 0, freshSnapshots: 0, learnerSnapshots: 0 };
}

/** What the membership driver needs of the simulation. */
export interface MembershipHost {
  readonly now: number;
  readonly rng: Rng;
  readonly stats: MembershipStats;
  log(s: string): void;
  node(id: NodeId): SimNode | undefined;
  /** Every member ever started (removed ones stay, stopped). */
  readonly nodes: readonly SimNode[];
  connected(a: NodeId, b: NodeId): boolean;
  startFresh(id: NodeId): void;
  stop(n: SimNode, why: string): void;
}

export interface MembershipProfile {
  /** etcd's --strict-reconfig-check and isLearnerReady. */
  strictReconfig: boolean;
  /**
   * Ticks between a member applying its own removal and stopping: etcd's stopWithDelay is 10 ticks; a
   * shorter one stands for a process that dies at once (its last commit index may reach nobody).
   */
  removedStopDelayTicks: number;
  /** Chance per tick that a member redials its peers' streams (a removed one is then refused: 410 Gone). */
  streamRedialChance: number;
}

type Kind = 'add' | 'addLearner' | 'promote' | 'demote' | 'remove' | 'removeLeader';
const kinds: Kind[] = ['add', 'add', 'addLearner', 'addLearner', 'promote', 'promote', 'demote', 'remove', 'remove', 'removeLeader'];

export class Membership {
  /** id -> committed index of the conf change that removed it. */
  readonly removedAt = new Map<NodeId, number>();
  /** Added ids whose process is not started yet -> tick at which the operator starts it. */
  private readonly starting = new Map<NodeId, number>();
  private nextId: bigint;

  constructor(private readonly host: MembershipHost, initialSize: number, private readonly profile: MembershipProfile) {
    this.nextId = BigInt(initialSize + 1);
  }

  /** Has member n applied the removal of id? */
  knowsRemoved(n: SimNode, id: NodeId): boolean {
    if (this.removedAt.size === 0) return false;
    const at = this.removedAt.get(id);
    return at !== undefined && n.app.appliedIndex >= at;
  }

  /** The operator asks the leader for one membership change (it may be refused, or turned empty by raft). */
  propose(lead: SimNode): void {
    const h = this.host;
    const cs = lead.raw!.raft.prs.confState();
    if (!cs.voters.includes(lead.id)) return; // a removed leader, about to stop
    const cc = this.choose(h.rng.pick(kinds), lead, cs);
    if (!cc) return;
    h.log(`client -> n${lead.id} proposeConfChange ${ConfChangeType[cc.type]}(${cc.nodeId})`);
    try {
      lead.raw!.proposeConfChange(cc);
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
    }
  }

  private choose(kind: Kind, lead: SimNode, cs: ConfState): ConfChange | undefined {
    const rng = this.host.rng;
    const size = cs.voters.length + cs.learners.length;
    switch (kind) {
      case 'add':
        if (size >= maxClusterSize || (this.profile.strictReconfig && !this.allVotersConnected(lead, cs))) return undefined;
        return { type: ConfChangeType.ConfChangeAddNode, nodeId: this.nextId++ };
      case 'addLearner':
        if (size >= maxClusterSize) return undefined;
        return { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: this.nextId++ };
      case 'promote': {
        if (cs.learners.length === 0) return undefined;
        const id = rng.pick(cs.learners);
        if (this.profile.strictReconfig && !this.learnerReady(lead, id)) return undefined;
        return { type: ConfChangeType.ConfChangeAddNode, nodeId: id };
      }
      case 'demote': {
        const others = cs.voters.filter((id) => id !== lead.id);
        if (cs.voters.length < 3) return undefined;
        return { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: rng.pick(others) };
      }
      case 'remove': {
        const others = [...cs.voters, ...cs.learners].filter((id) => id !== lead.id);
        if (others.length === 0) return undefined;
        const id = rng.pick(others);
        if (cs.voters.includes(id) && !this.mayRemoveVoter(lead, cs, id)) return undefined;
        return { type: ConfChangeType.ConfChangeRemoveNode, nodeId: id };
      }
      case 'removeLeader':
        if (!this.mayRemoveVoter(lead, cs, lead.id)) return undefined;
        return { type: ConfChangeType.ConfChangeRemoveNode, nodeId: lead.id };
    }
  }

  /** Up and reachable from the leader (etcd: its transport heard from the peer recently). */
  private active(lead: SimNode, id: NodeId): boolean {
    const n = this.host.node(id);
    return n !== undefined && n.alive && (id === lead.id || this.host.connected(lead.id, id));
  }

  private allVotersConnected(lead: SimNode, cs: ConfState): boolean {
    return cs.voters.every((id) => this.active(lead, id));
  }

  /**
   * etcd's mayRemoveMember, and never below two voters: with two, the survivor could be left alone in a
   * configuration that still counts the removed member (the removal committed, but it never learned so).
   */
  private mayRemoveVoter(lead: SimNode, cs: ConfState, id: NodeId): boolean {
    if (cs.voters.length < 3) return false;
    if (!this.profile.strictReconfig) return true;
    if (id !== lead.id && !this.active(lead, id)) return true; // a member that is down may always go
    const active = cs.voters.filter((v) => this.active(lead, v)).length;
    return active - 1 >= 1 + Math.floor((cs.voters.length - 1) / 2);
  }

  private learnerReady(lead: SimNode, id: NodeId): boolean {
    const prs = lead.raw!.raft.prs.progress;
    const learner = prs.get(id);
    const own = prs.get(lead.id);
    return learner !== undefined && own !== undefined && learner.match >= own.match * learnerReadyFraction;
  }

  /**
   * Member n applied conf change cc at index (its configuration was `before`, is now `after`); `first`:
   * no member applied that index before, so the register takes it in.
   */
  applied(n: SimNode, index: number, cc: ConfChange, before: ConfState, after: ConfState, first: boolean): void {
    const h = this.host;
    const isMember = (cs: ConfState, id: NodeId): boolean => cs.voters.includes(id) || cs.learners.includes(id);
    const removed = cc.type === ConfChangeType.ConfChangeRemoveNode && isMember(before, cc.nodeId) && !isMember(after, cc.nodeId);
    if (first) {
      if (removed) {
        this.removedAt.set(cc.nodeId, index);
        this.starting.delete(cc.nodeId);
        h.stats.membersRemoved++;
      } else if (cc.type === ConfChangeType.ConfChangeAddNode && before.learners.includes(cc.nodeId)) {
        h.stats.promotions++;
      } else if (!isMember(before, cc.nodeId) && isMember(after, cc.nodeId) && !h.node(cc.nodeId) && !this.removedAt.has(cc.nodeId)) {
        // `member add` returned: the operator starts the new member's process a little later.
        this.starting.set(cc.nodeId, h.now + h.rng.int(0, startDelayTicksMax));
        if (cc.type === ConfChangeType.ConfChangeAddLearnerNode) h.stats.learnersAdded++;
        else h.stats.membersAdded++;
      }
    }
    if (removed && cc.nodeId === n.id && n.stopAt === undefined) {
      if (n.isLeader()) h.stats.leaderRemovals++;
      h.log(`n${n.id} applied its own removal at ${index}${n.isLeader() ? ' as leader' : ''}: stops in ${this.profile.removedStopDelayTicks} ticks`);
      n.stopAt = h.now + this.profile.removedStopDelayTicks;
    }
  }

  /** Once a tick: start the members the operator added, stop those that are removed. */
  tick(startAll = false): void {
    const h = this.host;
    for (const [id, at] of this.starting) {
      if (!startAll && at > h.now) continue;
      this.starting.delete(id);
      h.startFresh(id);
    }
    for (const n of h.nodes) {
      if (!n.alive) continue;
      if (n.stopAt !== undefined && n.stopAt <= h.now) h.stop(n, 'stopped: removed from the cluster');
      else if (this.removedAt.has(n.id) && h.rng.chance(this.profile.streamRedialChance) && this.refusedByAPeer(n)) h.stop(n, 'stopped: a peer refused its stream as removed');
    }
  }

  private refusedByAPeer(n: SimNode): boolean {
    return this.host.nodes.some((p) => p !== n && p.alive && this.host.connected(p.id, n.id) && this.knowsRemoved(p, n.id));
  }
}
