// Membership changes with fresh ids, as the seeded simulation drives them (test/sim/membership.ts), one
// behaviour each: how a member that joins with an empty disk learns its configuration, and what a leader
// does once it has applied its own removal (etcd 3.4's raft: it keeps leading the others until the server
// stops it; the remaining voters then elect a leader among themselves).
import { describe, expect, it } from 'vitest';
import {
  ConfChangeType, decodeConfChange, EntryType, ErrProposalDropped, MemoryStorage, type Message, MessageType, type NodeId, RawNode,
  type Snapshot, StateType,
} from '../../../src/raft/index.js';
import { Rng } from '../../sim/rng.js';
import { confState } from './harness.js';

interface Member {
  node: RawNode;
  storage: MemoryStorage;
}

/** A few RawNodes that persist, apply and deliver everything at once, as a lossless transport. */
class Cluster {
  readonly members = new Map<NodeId, Member>();

  add(id: number, storage: MemoryStorage): RawNode {
    const rng = new Rng(id);
    const node = new RawNode({ id: BigInt(id), electionTick: 10, heartbeatTick: 1, storage, rng: () => rng.next() });
    this.members.set(BigInt(id), { node, storage });
    return node;
  }

  get(id: number): RawNode {
    return this.members.get(BigInt(id))!.node;
  }

  stop(id: number): void {
    this.members.delete(BigInt(id));
  }

  /** Run Ready cycles and deliveries until quiet; returns the messages sent, in order. */
  settle(): Message[] {
    const sent: Message[] = [];
    for (let progress = true; progress;) {
      progress = false;
      for (const { node, storage } of this.members.values()) {
        if (!node.hasReady()) continue;
        progress = true;
        const rd = node.ready();
        if (rd.snapshot) storage.applySnapshot(rd.snapshot);
        storage.append(rd.entries);
        if (rd.hardState) storage.setHardState(rd.hardState);
        for (const e of rd.committedEntries) if (e.type === EntryType.EntryConfChange) node.applyConfChange(decodeConfChange(e.data));
        node.advance(rd);
        for (const m of rd.messages) {
          sent.push(m);
          this.members.get(m.to)?.node.step(m);
        }
      }
    }
    return sent;
  }

  /** Tick every member `times` times, settling after each; returns the messages sent. */
  tick(times: number): Message[] {
    const sent: Message[] = [];
    for (let i = 0; i < times; i++) {
      for (const { node } of this.members.values()) node.tick();
      sent.push(...this.settle());
    }
    return sent;
  }

  leader(): RawNode | undefined {
    return [...this.members.values()].map((m) => m.node).find((n) => n.raft.state === StateType.StateLeader);
  }
}

function bootstrapped(voters: number[]): MemoryStorage {
  const st = new MemoryStorage();
  st.applySnapshot({ data: new Uint8Array(0), metadata: { index: 1, term: 1, confState: confState(voters) } });
  st.setHardState({ term: 1, vote: 0n, commit: 1 });
  return st;
}

function snapMsg(to: number, snapshot: Snapshot): Message {
  return { type: MessageType.MsgSnap, to: BigInt(to), from: 1n, term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot };
}

describe('a member that joins with an empty disk', () => {
  it('has no configuration, so never campaigns, however long it waits', () => {
    const c = new Cluster();
    const n = c.add(4, new MemoryStorage());
    c.tick(100);
    expect(n.raft.state).toBe(StateType.StateFollower);
    expect(n.raft.prs.confState().voters).toEqual([]);
  });

  it('refuses a snapshot whose configuration lacks it, and takes one that has it', () => {
    const c = new Cluster();
    const n = c.add(4, new MemoryStorage());
    // The leader's stored snapshot may predate the member's addition (why etcd sends a merged snapshot).
    n.step(snapMsg(4, { data: new Uint8Array(0), metadata: { index: 10, term: 2, confState: confState([1, 2, 3]) } }));
    let rd = n.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.messages.map((m) => [MessageType[m.type], m.index])).toEqual([['MsgAppResp', 0]]);
    n.advance(rd);
    n.step(snapMsg(4, { data: new Uint8Array(0), metadata: { index: 12, term: 2, confState: confState([1, 2, 3], [4]) } }));
    rd = n.ready();
    expect(rd.snapshot?.metadata.index).toBe(12);
    expect(rd.messages.map((m) => [MessageType[m.type], m.index])).toEqual([['MsgAppResp', 12]]);
    expect(n.raft.prs.confState()).toMatchObject({ voters: [1n, 2n, 3n], learners: [4n] });
    expect(n.raft.isLearner).toBe(true);
  });

  it('is added by the leader and caught up by a snapshot holding it, then by appends', () => {
    const c = new Cluster();
    for (const id of [1, 2, 3]) c.add(id, bootstrapped([1, 2, 3]));
    c.get(1).campaign();
    c.settle();
    c.get(1).proposeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 4n });
    c.settle();
    // Compact the leader's log past its bootstrap, with the new member in the snapshot's configuration.
    const lead = c.members.get(1n)!;
    const applied = lead.node.raft.raftLog.applied;
    lead.storage.createSnapshot(applied, lead.node.raft.prs.confState(), new Uint8Array(0));
    lead.storage.compact(applied);
    const n = c.add(4, new MemoryStorage());
    const sent = c.tick(3);
    expect(sent.filter((m) => m.type === MessageType.MsgSnap).map((m) => [m.to, m.snapshot?.metadata.index])).toEqual([[4n, applied]]);
    expect(n.raft.raftLog.firstIndex()).toBe(applied + 1);
    lead.node.propose(new TextEncoder().encode('after'));
    c.settle();
    expect(n.raft.raftLog.lastIndex()).toBe(lead.node.raft.raftLog.lastIndex());
    expect(n.raft.raftLog.committed).toBe(lead.node.raft.raftLog.committed);
    expect(n.raft.prs.confState().voters).toEqual([1n, 2n, 3n, 4n]);
  });
});

describe('a leader that removes itself', () => {
  it('keeps leading the others (etcd 3.4), drops proposals, and the rest elect a leader once it stops', () => {
    const c = new Cluster();
    for (const id of [1, 2, 3]) c.add(id, bootstrapped([1, 2, 3]));
    c.get(1).campaign();
    c.settle();
    c.get(1).proposeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n });
    c.settle();
    const old = c.get(1);
    expect(old.raft.state).toBe(StateType.StateLeader);
    expect(old.raft.prs.confState().voters).toEqual([2n, 3n]);
    expect(() => old.propose(new TextEncoder().encode('x'))).toThrow(ErrProposalDropped);
    // Its heartbeats carried the commit index: the others applied the removal too.
    expect(c.get(2).raft.prs.confState().voters).toEqual([2n, 3n]);
    const term = old.raft.term;
    c.stop(1);
    c.tick(30);
    const lead = c.leader();
    expect(lead && lead.raft.id !== 1n).toBe(true);
    expect(lead!.raft.term).toBeGreaterThan(term);
    lead!.propose(new TextEncoder().encode('y'));
    c.settle();
    expect(c.get(2).raft.raftLog.committed).toBe(c.get(3).raft.raftLog.committed);
  });
});
