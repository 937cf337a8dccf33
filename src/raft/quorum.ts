// Majority and joint quorums: the committed index of a set of acks, and the result of a vote.
import type { NodeId } from './types.js';

export enum VoteResult {
  VotePending = 1,
  VoteLost = 2,
  VoteWon = 3,
}

/** Index acked by node id, or undefined when unknown. */
export type AckedIndexer = (id: NodeId) => number | undefined;

const scratch: number[] = new Array<number>(16).fill(0);

export function majorityCommittedIndex(voters: Set<NodeId>, l: AckedIndexer): number {
  const n = voters.size;
  // An empty majority commits everything, so a joint config with an empty half behaves as the other half.
  if (n === 0) return Number.MAX_SAFE_INTEGER;
  const srt = n <= scratch.length ? scratch : new Array<number>(n);
  let k = 0;
  for (const id of voters) {
    // Insertion sort: clusters are small (etcd recommends at most 7 voters).
    const v = l(id) ?? 0;
    let j = k++;
    while (j > 0 && srt[j - 1]! > v) {
      srt[j] = srt[j - 1]!;
      j--;
    }
    srt[j] = v;
  }
  return srt[n - (Math.floor(n / 2) + 1)]!;
}

export function majorityVoteResult(voters: Set<NodeId>, votes: Map<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.VoteWon;
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (yes >= q) return VoteResult.VoteWon;
  if (yes + missing >= q) return VoteResult.VotePending;
  return VoteResult.VoteLost;
}

/** voters[0] is the incoming (current) majority, voters[1] the outgoing one (empty unless joint). */
export type JointVoters = [Set<NodeId>, Set<NodeId>];

export function jointCommittedIndex(v: JointVoters, l: AckedIndexer): number {
  return Math.min(majorityCommittedIndex(v[0], l), majorityCommittedIndex(v[1], l));
}

export function jointVoteResult(v: JointVoters, votes: Map<NodeId, boolean>): VoteResult {
  const r1 = majorityVoteResult(v[0], votes);
  const r2 = majorityVoteResult(v[1], votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.VoteLost || r2 === VoteResult.VoteLost) return VoteResult.VoteLost;
  return VoteResult.VotePending;
}
