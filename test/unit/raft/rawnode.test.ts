// RawNode: the Ready contract, a one-member cluster, restarts, and bad input (as etcd's raft treats it).
import { describe, expect, it } from 'vitest';
import {
  ConfChangeType, decodeConfChange, EntryType, ErrProposalDropped, MemoryStorage, type Message, MessageType, RawNode,
  type Ready, StateType, encodeConfChange,
} from '../../../src/raft/index.js';
import { Rng } from '../../sim/rng.js';
import { confState, text } from './harness.js';

function newNode(id: number, voters: number[], storage = MemoryStorage.withConfState(confState(voters))): RawNode {
  const rng = new Rng(id);
  return new RawNode({ id: BigInt(id), electionTick: 10, heartbeatTick: 1, storage, rng: () => rng.next() });
}

/** Persist and apply one Ready as the server does; returns it. */
function cycle(n: RawNode, st: MemoryStorage): Ready {
  const rd = n.ready();
  if (rd.snapshot) st.applySnapshot(rd.snapshot);
  st.append(rd.entries);
  if (rd.hardState) st.setHardState(rd.hardState);
  for (const e of rd.committedEntries) if (e.type === EntryType.EntryConfChange) n.applyConfChange(decodeConfChange(e.data));
  n.advance(rd);
  return rd;
}

const msg = (p: Partial<Message> & { type: MessageType }): Message => ({
  to: 1n, from: 2n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...p,
});

describe('RawNode', () => {
  it('a one-member cluster elects itself on campaign() and commits a proposal in one Ready cycle', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    n.campaign();
    const rd1 = cycle(n, st);
    expect(rd1.softState).toEqual({ lead: 1n, raftState: StateType.StateLeader });
    expect(rd1.hardState).toEqual({ term: 1, vote: 1n, commit: 1 });
    expect(rd1.mustSync).toBe(true);
    n.propose(text('hello'));
    const rd2 = cycle(n, st);
    expect(rd2.entries.map((e) => [e.index, e.term])).toEqual([[2, 1]]);
    expect(rd2.committedEntries.map((e) => new TextDecoder().decode(e.data))).toEqual(['hello']);
    expect(rd2.messages).toEqual([]);
    expect(rd2.softState).toBeUndefined(); // unchanged
    expect(n.hasReady()).toBe(false);
  });

  it('a one-member cluster elects itself after an election timeout', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    let ticks = 0;
    while (n.status().softState.raftState !== StateType.StateLeader && ticks < 100) {
      n.tick();
      ticks++;
    }
    expect(ticks).toBeGreaterThanOrEqual(10); // not before electionTick
    expect(ticks).toBeLessThan(20); // within the randomized [electionTick, 2*electionTick)
  });

  it('bootstrap writes one committed AddNode entry per peer, as etcd', () => {
    const st = new MemoryStorage();
    const n = newNode(1, [], st);
    n.bootstrap([{ id: 1n }, { id: 2n }, { id: 3n }]);
    const rd = cycle(n, st);
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([[1, 1, 1], [2, 1, 1], [3, 1, 1]]);
    expect(rd.committedEntries.map((e) => decodeConfChange(e.data).nodeId)).toEqual([1n, 2n, 3n]);
    expect(rd.hardState).toEqual({ term: 1, vote: 0n, commit: 3 });
    expect(n.raft.prs.confState().voters).toEqual([1n, 2n, 3n]);
    expect(() => n.bootstrap([{ id: 1n }])).toThrow(/nonempty/);
  });

  it('drops proposals with ErrProposalDropped when there is no leader', () => {
    const n = newNode(1, [1, 2, 3]);
    expect(() => n.propose(text('x'))).toThrow(ErrProposalDropped);
    expect(() => n.propose(text('x'))).toThrow('raft proposal dropped');
  });

  it('forwards a follower\'s proposal to the leader', () => {
    const n = newNode(2, [1, 2, 3]);
    n.step(msg({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1 }));
    n.ready();
    n.propose(text('fwd'));
    const rd = n.ready();
    expect(rd.messages.map((m) => [MessageType[m.type], m.to, m.term])).toEqual([['MsgProp', 1n, 0]]);
  });

  it('hands out the hard state only when it changes, and messages only after ready()', () => {
    const st = MemoryStorage.withConfState(confState([1, 2, 3]));
    const n = newNode(1, [1, 2, 3], st);
    expect(n.hasReady()).toBe(false);
    n.campaign();
    const rd = cycle(n, st);
    expect(rd.softState?.raftState).toBe(StateType.StatePreCandidate);
    expect(rd.hardState).toBeUndefined(); // a pre-vote changes neither term nor vote
    expect(rd.messages.map((m) => MessageType[m.type])).toEqual(['MsgPreVote', 'MsgPreVote']);
    n.step(msg({ type: MessageType.MsgPreVoteResp, from: 2n, term: 1 }));
    const rd2 = cycle(n, st);
    expect(rd2.hardState).toEqual({ term: 1, vote: 1n, commit: 0 });
    expect(rd2.mustSync).toBe(true);
    expect(rd2.messages.map((m) => MessageType[m.type])).toEqual(['MsgVote', 'MsgVote']);
  });

  it('restarts from storage with its persisted term, vote and log', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    n.campaign();
    cycle(n, st);
    n.propose(text('a'));
    cycle(n, st);
    const again = newNode(1, [1], st);
    expect(again.status().hardState).toEqual({ term: 1, vote: 1n, commit: 2 });
    expect(again.raft.raftLog.lastIndex()).toBe(2);
    expect(again.hasReady()).toBe(true); // committed entries to apply (applied was not given)
    const rd = again.ready();
    expect(rd.hardState).toBeUndefined(); // already durable
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
  });

  it('restarting with an applied index replays the conf changes up to it into the configuration', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    n.campaign();
    cycle(n, st);
    n.proposeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n });
    const rd = cycle(n, st);
    expect(rd.committedEntries.map((e) => e.type)).toEqual([EntryType.EntryConfChange]);
    const applied = rd.committedEntries[0]!.index;
    // Restart as the server does after a crash: storage from the WAL, applied from the backend.
    const rng = new Rng(1);
    const again = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage: st, applied, rng: () => rng.next() });
    expect(again.raft.prs.confState().learners).toEqual([2n]);
    expect(again.ready().committedEntries).toEqual([]); // nothing is handed out twice
    // Restarting at the snapshot instead (etcd's way): the entry comes out again to be re-applied.
    const etcdWay = newNode(1, [1], st);
    expect(etcdWay.raft.prs.confState().learners).toEqual([]);
    expect(etcdWay.ready().committedEntries.some((e) => e.type === EntryType.EntryConfChange)).toBe(true);
  });

  it('serves a linearizable read on a one-member cluster through readStates', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    n.campaign();
    cycle(n, st);
    n.readIndex(text('req-1'));
    const rd = cycle(n, st);
    expect(rd.readStates).toEqual([{ index: 1, requestCtx: text('req-1') }]);
  });
});

describe('bad input is rejected or ignored, never crashes the node', () => {
  function leader3(): { n: RawNode; st: MemoryStorage } {
    const st = MemoryStorage.withConfState(confState([1, 2, 3]));
    const n = newNode(1, [1, 2, 3], st);
    n.campaign();
    cycle(n, st);
    n.step(msg({ type: MessageType.MsgPreVoteResp, from: 2n, term: 1 }));
    cycle(n, st);
    n.step(msg({ type: MessageType.MsgVoteResp, from: 2n, term: 1 }));
    cycle(n, st);
    expect(n.status().softState.raftState).toBe(StateType.StateLeader);
    return { n, st };
  }

  it('a response from an unknown member is dropped (ErrStepPeerNotFound)', () => {
    const { n } = leader3();
    const before = JSON.stringify(n.status(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(n.step(msg({ type: MessageType.MsgAppResp, from: 9n, term: 1, index: 100 }))?.message).toBe('raft: cannot step as peer not found');
    expect(JSON.stringify(n.status(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(before);
  });

  it('local message types from the network are dropped (ErrStepLocalMsg)', () => {
    const n = newNode(1, [1, 2, 3]);
    expect(n.step(msg({ type: MessageType.MsgHup }))?.message).toBe('raft: cannot step raft local message');
    expect(n.status().softState.raftState).toBe(StateType.StateFollower);
  });

  it('a message of an old term is ignored (an old leader\'s append gets our term back)', () => {
    const { n } = leader3();
    const last = n.raft.raftLog.lastIndex();
    n.step(msg({ type: MessageType.MsgVote, from: 3n, term: 1, index: 99, logTerm: 99 }));
    expect(n.raft.raftLog.lastIndex()).toBe(last);
    expect(n.status().softState.raftState).toBe(StateType.StateLeader);
    const f = newNode(2, [1, 2, 3]);
    f.step(msg({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 5 }));
    f.ready();
    f.step(msg({ type: MessageType.MsgApp, from: 3n, to: 2n, term: 4, index: 0, entries: [{ index: 1, term: 4, type: 0, data: text('stale') }] }));
    const rd = f.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.messages.map((m) => [MessageType[m.type], m.to, m.term])).toEqual([['MsgAppResp', 3n, 5]]);
  });

  it('a malformed append (gapped indexes, term above the message) is dropped whole', () => {
    const f = newNode(2, [1, 2, 3]);
    const gapped = [{ index: 1, term: 1, type: 0, data: text('a') }, { index: 3, term: 1, type: 0, data: text('c') }];
    expect(f.step(msg({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: 0, entries: gapped }))).toBeInstanceOf(Error);
    const future = [{ index: 1, term: 7, type: 0, data: text('a') }];
    expect(f.step(msg({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: 0, entries: future }))).toBeInstanceOf(Error);
    expect(f.raft.raftLog.lastIndex()).toBe(0);
    expect(f.raft.term).toBe(0);
  });

  it('a conf change that would remove the last voter is committed as an empty entry', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    n.campaign();
    cycle(n, st);
    n.proposeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n });
    const rd = cycle(n, st);
    expect(rd.committedEntries.map((e) => [e.type, e.data.length])).toEqual([[EntryType.EntryNormal, 0]]);
    expect(n.raft.prs.confState().voters).toEqual([1n]);
    // Applied directly anyway (e.g. from an old log): ignored, the configuration stands.
    expect(n.applyConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n }).voters).toEqual([1n]);
  });

  it('a malformed conf-change entry is committed as an empty entry, and a second change waits its turn', () => {
    const st = MemoryStorage.withConfState(confState([1]));
    const n = newNode(1, [1], st);
    n.campaign();
    cycle(n, st);
    n.step(msg({ type: MessageType.MsgProp, from: 1n, entries: [{ term: 0, index: 0, type: EntryType.EntryConfChange, data: text('garbage') }] }));
    const rd = cycle(n, st);
    expect(rd.committedEntries.map((e) => e.type)).toEqual([EntryType.EntryNormal]);
    // Two changes proposed before either applies: the second becomes an empty entry.
    n.proposeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n });
    n.proposeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n });
    const rd2 = cycle(n, st);
    expect(rd2.committedEntries.map((e) => e.type)).toEqual([EntryType.EntryConfChange, EntryType.EntryNormal]);
    expect(n.raft.prs.confState().learners).toEqual([2n]);
  });

  it('encodes and decodes conf changes, rejecting garbage', () => {
    const cc = { type: ConfChangeType.ConfChangeAddNode, nodeId: 0x2an, id: 7n, context: text('m') };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    expect(() => decodeConfChange(text('nope'))).toThrow(RangeError);
  });
});

describe('bad input, continued', () => {
  it('an acknowledgement of entries the leader does not have is dropped', () => {
    const st = MemoryStorage.withConfState(confState([1, 2, 3]));
    const n = newNode(1, [1, 2, 3], st);
    n.campaign();
    cycle(n, st);
    n.step(msg({ type: MessageType.MsgPreVoteResp, from: 2n, term: 1 }));
    cycle(n, st);
    n.step(msg({ type: MessageType.MsgVoteResp, from: 2n, term: 1 }));
    cycle(n, st);
    const last = n.raft.raftLog.lastIndex();
    expect(n.step(msg({ type: MessageType.MsgAppResp, from: 2n, term: 1, index: last + 50 }))).toBeInstanceOf(Error);
    expect(n.raft.raftLog.committed).toBeLessThanOrEqual(last);
  });

  it('a transfer request forwarded twice (it carries a term by then) is forwarded again, not a crash', () => {
    const f = newNode(2, [1, 2, 3]);
    f.step(msg({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 3 }));
    f.ready();
    expect(f.step(msg({ type: MessageType.MsgTransferLeader, from: 3n, to: 2n, term: 3 }))).toBeUndefined();
    const rd = f.ready();
    expect(rd.messages.map((m) => [MessageType[m.type], m.to, m.from])).toEqual([['MsgTransferLeader', 1n, 3n]]);
  });
});
