// The five safety properties of the Raft paper (§5.2–5.4, Figure 3), one test each.
import { describe, expect, it } from 'vitest';
import { MessageType, StateType } from '../../../src/raft/index.js';
import { Network, newTestRaft, stepIn, drain, text } from './harness.js';

const msg = (p: Partial<import('../../../src/raft/index.js').Message> & { type: MessageType }) => ({
  to: 1n, from: 2n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...p,
});
const ent = (index: number, term: number, data = '') => ({ index, term, type: 0, data: text(data) });

describe('Raft paper properties', () => {
  it('election safety: at most one leader can be elected in a given term', () => {
    // Two candidates start in the same term; every voter grants one vote per term.
    const nw = new Network(5, { preVote: false });
    nw.cut(1, 3); nw.cut(1, 4); nw.cut(1, 5); // 1 can only reach 2
    nw.cut(2, 3); nw.cut(2, 4); nw.cut(2, 5);
    nw.campaign(1); // term 1: 1 gets {1,2}, not a majority of 5
    nw.campaign(3); // term 1: 3 gets {3,4,5}
    const leaders = [...nw.peers.values()].filter((r) => r.state === StateType.StateLeader);
    expect(leaders.map((r) => [r.id, r.term])).toEqual([[3n, 1]]);
    expect([nw.get(1).term, nw.get(1).state]).toEqual([1, StateType.StateCandidate]);
    // A voter that granted its vote in a term refuses any other candidate of that term.
    const v = newTestRaft(1, [1, 2, 3], { preVote: false });
    stepIn(v, msg({ type: MessageType.MsgVote, from: 2n, term: 5, index: 0, logTerm: 0 }));
    stepIn(v, msg({ type: MessageType.MsgVote, from: 3n, term: 5, index: 0, logTerm: 0 }));
    expect(drain(v).map((m) => [m.to, MessageType[m.type], m.reject])).toEqual([[2n, 'MsgVoteResp', false], [3n, 'MsgVoteResp', true]]);
    expect(v.vote).toBe(2n);
  });

  it('leader append-only: a leader never overwrites or deletes entries in its log', () => {
    const nw = new Network(3);
    nw.campaign(1);
    nw.propose(1, 'a');
    nw.propose(1, 'b');
    const l = nw.get(1);
    const before = l.raftLog.allEntries().map((e) => `${e.index}/${e.term}`);
    // A conflicting append from a stale leader (lower term) is refused, not applied.
    stepIn(l, msg({ type: MessageType.MsgApp, from: 2n, term: l.term - 1, index: 1, logTerm: 1, entries: [ent(2, 1, 'x')] }));
    expect(l.raftLog.allEntries().map((e) => `${e.index}/${e.term}`)).toEqual(before);
    expect(l.state).toBe(StateType.StateLeader);
    // New proposals only extend the log.
    nw.propose(1, 'c');
    const after = l.raftLog.allEntries().map((e) => `${e.index}/${e.term}`);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBe(before.length + 1);
  });

  it('log matching: an append is accepted only after a matching (index, term), and conflicts are replaced', () => {
    const f = newTestRaft(1, [1, 2], { preVote: false });
    f.raftLog.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
    f.becomeFollower(3, 2n);
    // Mismatch at (3, term 3): rejected, with a hint for fast backtracking.
    stepIn(f, msg({ type: MessageType.MsgApp, term: 3, index: 3, logTerm: 3, entries: [ent(4, 3)] }));
    const [rej] = drain(f);
    expect([rej!.reject, rej!.index, rej!.rejectHint, rej!.logTerm]).toEqual([true, 3, 3, 2]);
    // Matching (2, term 2) with a conflicting entry at 3: the suffix is replaced by the leader's.
    stepIn(f, msg({ type: MessageType.MsgApp, term: 3, index: 2, logTerm: 2, entries: [ent(3, 3, 'n'), ent(4, 3)] }));
    expect(drain(f).map((m) => [m.reject, m.index])).toEqual([[false, 4]]);
    expect(f.raftLog.allEntries().map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/2', '3/3', '4/3']);
  });

  it('leader completeness: a candidate whose log is behind cannot win a vote', () => {
    // Voter log ends at (index 2, term 2). Table of candidate (lastIndex, lastTerm) -> granted?
    const cases: [number, number, boolean][] = [
      [3, 1, false], // longer log, older last term
      [1, 2, false], // same term, shorter
      [2, 2, true], // identical
      [3, 2, true], // same term, longer
      [1, 3, true], // newer last term wins whatever the length
    ];
    for (const [index, logTerm, granted] of cases) {
      const v = newTestRaft(1, [1, 2, 3], { preVote: false });
      v.raftLog.append([ent(1, 1), ent(2, 2)]);
      stepIn(v, msg({ type: MessageType.MsgVote, from: 2n, term: 5, index, logTerm }));
      expect([index, logTerm, !drain(v)[0]!.reject]).toEqual([index, logTerm, granted]);
    }
  });

  it('state-machine safety: an entry of an earlier term is never committed by counting replicas (Figure 8)', () => {
    const l = newTestRaft(1, [1, 2, 3, 4, 5], { preVote: false });
    l.raftLog.append([ent(1, 1), ent(2, 2, 'old')]); // entry 2 was written by a term-2 leader
    l.term = 2;
    l.becomeCandidate(); // term 3
    l.becomeLeader(); // appends its own empty entry (3, term 3)
    drain(l);
    expect(l.raftLog.lastIndex()).toBe(3);
    // 2 and 3 store the old entry: it now sits on 3 of 5 members…
    for (const from of [2n, 3n]) stepIn(l, msg({ type: MessageType.MsgAppResp, from, term: 3, index: 2 }));
    // …yet it is not committed, for a later leader could still overwrite it (Figure 8 (c)-(d)).
    expect(l.raftLog.committed).toBe(0);
    // Once the current term's entry reaches a majority, it commits, and the old entry with it.
    stepIn(l, msg({ type: MessageType.MsgAppResp, from: 2n, term: 3, index: 3 }));
    expect(l.raftLog.committed).toBe(0); // entry 3 on 2 of 5
    stepIn(l, msg({ type: MessageType.MsgAppResp, from: 3n, term: 3, index: 3 }));
    expect(l.raftLog.committed).toBe(3);
  });
});
