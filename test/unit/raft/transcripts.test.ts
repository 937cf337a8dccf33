// Readable transcripts of the message exchanges in the tricky cases. Each test states the facts that
// matter and pins the exact conversation, so a change in behaviour shows up as a diff of messages.
import { describe, expect, it } from 'vitest';
import { ConfChangeType, MessageType, StateType } from '../../../src/raft/index.js';
import { Network } from './harness.js';

describe('transcripts', () => {
  it('pre-vote during a partition: the isolated node does not inflate its term or depose the leader', () => {
    const nw = new Network(3);
    nw.campaign(1);
    nw.take();
    nw.isolate(3);
    for (let i = 0; i < 30; i++) nw.tick(3); // 3 times out repeatedly, but its pre-votes reach nobody
    expect(nw.get(3).term).toBe(1);
    expect(nw.get(3).state).toBe(StateType.StatePreCandidate);
    nw.take();
    nw.recover();
    nw.tick(3, 30); // 3 times out again, now connected: 1 and 2 are in the leader's lease and ignore it
    nw.tick(1); // the leader's next heartbeat brings 3 back as a follower, in the same term
    expect(nw.take()).toEqual([
      'n3 -> n1 MsgPreVote term=2 lastIndex=1 lastTerm=1', // ignored: 1 is the leader (in lease)
      'n3 -> n2 MsgPreVote term=2 lastIndex=1 lastTerm=1', // ignored: 2 heard from its leader recently
      'n3 -> n1 MsgPreVote term=2 lastIndex=1 lastTerm=1',
      'n3 -> n2 MsgPreVote term=2 lastIndex=1 lastTerm=1',
      'n1 -> n2 MsgHeartbeat term=1 commit=1',
      'n1 -> n3 MsgHeartbeat term=1 commit=1',
      'n2 -> n1 MsgHeartbeatResp term=1',
      'n3 -> n1 MsgHeartbeatResp term=1',
    ]);
    expect(nw.get(1).state).toBe(StateType.StateLeader);
    expect(nw.get(1).term).toBe(1);
    expect([nw.get(3).state, nw.get(3).lead, nw.get(3).term]).toEqual([StateType.StateFollower, 1n, 1]);
  });

  it('leader stepping down under CheckQuorum when it loses its followers', () => {
    const nw = new Network(3);
    nw.campaign(1);
    nw.isolate(1);
    nw.tick(1, 10); // first check: the followers were active in the window (they acked the election)
    expect(nw.get(1).state).toBe(StateType.StateLeader);
    nw.tick(1, 9);
    nw.take();
    nw.recordCuts = true;
    nw.tick(1); // the 20th tick: nobody heard from during a whole election timeout
    expect(nw.take()).toEqual([]); // stepped down before its heartbeat: a follower sends nothing
    expect([nw.get(1).state, nw.get(1).lead, nw.get(1).term]).toEqual([StateType.StateFollower, 0n, 1]);
    // Having stepped down, 1 is out of any lease: after healing it grants 2's pre-vote and vote.
    nw.recover();
    nw.tick(2, 10); // 2 has not heard from a leader for an election timeout (no heartbeats reached it)
    nw.tick(2, 10);
    expect(nw.get(2).state).toBe(StateType.StateLeader);
    expect(nw.take().slice(0, 6)).toEqual([
      'n2 -> n1 MsgPreVote term=2 lastIndex=1 lastTerm=1',
      'n2 -> n3 MsgPreVote term=2 lastIndex=1 lastTerm=1',
      'n1 -> n2 MsgPreVoteResp term=2 granted', // 1 stepped down: no lease to protect
      // (3 has not ticked since the old leader's last message: still in its lease, it stays silent)
      'n2 -> n1 MsgVote term=2 lastIndex=1 lastTerm=1',
      'n2 -> n3 MsgVote term=2 lastIndex=1 lastTerm=1',
      'n1 -> n2 MsgVoteResp term=2 granted',
    ]);
  });

  it('snapshot to a lagging follower', () => {
    const nw = new Network(3);
    nw.campaign(1);
    nw.isolate(3);
    for (const v of ['a', 'b', 'c']) nw.propose(1, v);
    const l = nw.get(1);
    const st = nw.storage.get(1n)!;
    st.createSnapshot(l.raftLog.committed, l.prs.confState(), new TextEncoder().encode('state@4'));
    st.compact(l.raftLog.committed);
    nw.take();
    nw.recover();
    nw.tick(1); // heartbeat -> response -> probe -> compacted -> MsgSnap
    expect(nw.take()).toEqual([
      'n1 -> n2 MsgHeartbeat term=1 commit=4',
      'n1 -> n3 MsgHeartbeat term=1 commit=1', // never more than the follower's match
      'n2 -> n1 MsgHeartbeatResp term=1',
      'n3 -> n1 MsgHeartbeatResp term=1', // 3 is behind: the leader probes
      'n1 -> n3 MsgApp term=1 index=4 logTerm=1 entries=[] commit=4',
      'n3 -> n1 MsgAppResp term=1 index=4 reject hint=1 hintTerm=1', // 3 has nothing after 1
      'n1 -> n3 MsgSnap term=1 snapshot index=4 term=1', // entries 2..4 are compacted away
      'n3 -> n1 MsgAppResp term=1 index=4', // restored: the leader moves it to replicate
      'n1 -> n3 MsgApp term=1 index=4 logTerm=1 entries=[] commit=4',
      'n3 -> n1 MsgAppResp term=1 index=4',
    ]);
    expect(nw.get(3).raftLog.committed).toBe(l.raftLog.committed);
    expect(l.prs.progress.get(3n)!.stateName()).toBe('StateReplicate');
  });

  it('a learner is never asked for a vote, and outlives its leader without campaigning', () => {
    const nw = new Network(3, { learners: [3] });
    nw.campaign(1);
    expect(nw.take().filter((m) => m.startsWith('n1 -> n3'))).toEqual([
      'n1 -> n3 MsgApp term=1 index=0 logTerm=0 entries=[1..1] commit=0', // appends only: no MsgPreVote, no MsgVote
      'n1 -> n3 MsgApp term=1 index=1 logTerm=1 entries=[] commit=1',
    ]);
    nw.isolate(1);
    nw.tick(3, 100); // far past its election timeout: a learner does not campaign
    expect(nw.take()).toEqual([]);
    expect([nw.get(3).state, nw.get(3).term]).toEqual([StateType.StateFollower, 1]);
    nw.tick(2, 100); // the voter left campaigns; the learner is not one of the voters it asks
    expect(nw.take().filter((m) => /Vote/.test(m) && m.includes('n3'))).toEqual([]);
  });

  it('learner promotion', () => {
    const nw = new Network(3, { learners: [3] });
    nw.campaign(1);
    expect(nw.get(1).state).toBe(StateType.StateLeader);
    expect(nw.get(3).promotable()).toBe(false); // a learner never campaigns
    nw.isolate(2);
    nw.propose(1, 'x'); // 3 stores it, but a learner's ack does not count: 1 of 2 voters is no quorum
    const l = nw.get(1);
    expect(l.prs.progress.get(3n)!.match).toBe(l.raftLog.lastIndex());
    expect(l.raftLog.committed).toBe(l.raftLog.lastIndex() - 1);
    nw.take();
    for (const r of nw.peers.values()) r.applyConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 3n });
    nw.flush(); // promoted: {1,3} is a quorum of {1,2,3}, the entry commits and the new commit goes out
    expect(nw.take()).toEqual([
      'n1 -> n3 MsgApp term=1 index=2 logTerm=1 entries=[] commit=2',
      'n3 -> n1 MsgAppResp term=1 index=2',
    ]);
    expect(l.raftLog.committed).toBe(l.raftLog.lastIndex());
    expect([nw.get(3).isLearner, nw.get(3).promotable()]).toEqual([false, true]);
  });

  it('leader transfer with MsgTimeoutNow', () => {
    const nw = new Network(3);
    nw.campaign(1);
    nw.take();
    nw.local(1, MessageType.MsgTransferLeader, { from: 2n });
    expect(nw.take()).toEqual([
      'n1 -> n2 MsgTimeoutNow term=1', // 2's log is up to date: campaign now, skipping pre-vote
      'n2 -> n1 MsgVote term=2 lastIndex=1 lastTerm=1', // carries CampaignTransfer: overrides leases
      'n2 -> n3 MsgVote term=2 lastIndex=1 lastTerm=1',
      'n1 -> n2 MsgVoteResp term=2 granted',
      'n3 -> n2 MsgVoteResp term=2 granted',
      'n2 -> n1 MsgApp term=2 index=1 logTerm=1 entries=[2..2] commit=1',
      'n2 -> n3 MsgApp term=2 index=1 logTerm=1 entries=[2..2] commit=1',
      'n1 -> n2 MsgAppResp term=2 index=2',
      'n3 -> n2 MsgAppResp term=2 index=2',
      'n2 -> n1 MsgApp term=2 index=2 logTerm=2 entries=[] commit=2',
      'n2 -> n3 MsgApp term=2 index=2 logTerm=2 entries=[] commit=2',
      'n1 -> n2 MsgAppResp term=2 index=2',
      'n3 -> n2 MsgAppResp term=2 index=2',
    ]);
    expect(nw.get(2).state).toBe(StateType.StateLeader);
    expect(nw.get(1).state).toBe(StateType.StateFollower);
    expect(nw.get(2).term).toBe(2);
  });
});
