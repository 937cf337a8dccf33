// The leader's view of the cluster: the active configuration, each member's Progress, and votes.
import { Progress } from './progress.js';
import { type JointVoters, jointCommittedIndex, jointVoteResult, VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';
import { sortedIds } from './util.js';

export interface TrackerConfig {
  voters: JointVoters;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export type ProgressMap = Map<NodeId, Progress>;

export function emptyTrackerConfig(): TrackerConfig {
  return { voters: [new Set(), new Set()], learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: [new Set(c.voters[0]), new Set(c.voters[1])],
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<NodeId, boolean>();
  /** Sorted ids of `progress`, recomputed when the map is replaced (config changes build a new map). */
  private idsCache: NodeId[] = [];
  private idsFor: ProgressMap | undefined;

  /** maxInflight: the named per-follower limit of in-flight appends. */
  constructor(readonly maxInflight: number) {}

  confState(): ConfState {
    return {
      voters: sortedIds(this.config.voters[0]),
      votersOutgoing: sortedIds(this.config.voters[1]),
      learners: sortedIds(this.config.learners),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  isSingleton(): boolean {
    return this.config.voters[0].size === 1 && this.config.voters[1].size === 0;
  }

  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** Visit progresses in id order (deterministic). */
  visit(f: (id: NodeId, pr: Progress) => void): void {
    if (this.idsFor !== this.progress || this.idsCache.length !== this.progress.size) {
      this.idsCache = sortedIds(this.progress.keys());
      this.idsFor = this.progress;
    }
    for (const id of this.idsCache) {
      const pr = this.progress.get(id);
      if (pr) f(id, pr);
    }
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters[0].has(id) || this.config.voters[1].has(id);
  }

  /** Has a quorum been heard from recently (CheckQuorum)? */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) if (!pr.isLearner) votes.set(id, pr.recentActive);
    return jointVoteResult(this.config.voters, votes) === VoteResult.VoteWon;
  }

  voterNodes(): NodeId[] {
    return sortedIds(new Set([...this.config.voters[0], ...this.config.voters[1]]));
  }

  learnerNodes(): NodeId[] {
    return sortedIds(this.config.learners);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: NodeId, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  voteResult(votes: Map<NodeId, boolean>): VoteResult {
    return jointVoteResult(this.config.voters, votes);
  }
}

export function newProgress(next: number, maxInflight: number, isLearner: boolean): Progress {
  return new Progress(next, maxInflight, isLearner);
}
