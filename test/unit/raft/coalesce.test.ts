// coalesceMessages: continuing MsgApps to one peer become one, superseded MsgAppResps are left out,
// everything else passes in order; and a RawNode's Ready carries the result.
import { describe, expect, it } from 'vitest';
import { EntryType, MemoryStorage, type Entry, type Message, MessageType, RawNode, StateType } from '../../../src/raft/index.js';
import { coalesceMessages } from '../../../src/raft/coalesce.js';
import { Rng } from '../../sim/rng.js';
import { confState, text } from './harness.js';

const msg = (p: Partial<Message> & { type: MessageType }): Message => ({
  to: 2n, from: 1n, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...p,
});
const ents = (from: number, to: number, term = 3, bytes = 1): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ term, index: from + i, type: EntryType.EntryNormal, data: new Uint8Array(bytes) }));
const app = (to: bigint, index: number, logTerm: number, e: Entry[], commit: number): Message => msg({ type: MessageType.MsgApp, to, index, logTerm, entries: e, commit });

describe('coalesceMessages', () => {
  it('merges appends to one peer that continue one another, keeping the later commit, per peer and in order', () => {
    const hb = msg({ type: MessageType.MsgHeartbeat, to: 3n, commit: 4 });
    const out = coalesceMessages([
      app(2n, 4, 3, ents(5, 6), 4),
      app(3n, 4, 3, ents(5, 6), 4),
      hb,
      app(2n, 6, 3, ents(7, 7), 5),
      app(3n, 6, 3, ents(7, 7), 5),
      app(2n, 7, 3, [], 7), // commit only
    ], 1 << 20);
    expect(out).toEqual([app(2n, 4, 3, ents(5, 7), 7), app(3n, 4, 3, ents(5, 7), 5), hb]);
  });

  it('leaves apart appends that do not continue (gap, other log term, other term) or would pass maxBytes', () => {
    const cases: Message[][] = [
      [app(2n, 4, 3, ents(5, 6), 4), app(2n, 7, 3, ents(8, 8), 4)], // gap
      [app(2n, 4, 3, ents(5, 6), 4), app(2n, 6, 2, ents(7, 7), 4)], // previous entry's term differs
      [app(2n, 4, 3, ents(5, 6), 4), { ...app(2n, 6, 3, ents(7, 7, 4), 4), term: 4 }], // a new term
      [app(2n, 4, 3, ents(5, 6, 3, 60), 4), app(2n, 6, 3, ents(7, 7, 3, 60), 4)], // 180 bytes > 150
    ];
    for (const msgs of cases) expect(coalesceMessages(msgs, 150)).toEqual(msgs);
    // an empty append continues from its own index and log term
    expect(coalesceMessages([app(2n, 4, 3, [], 3), app(2n, 4, 3, ents(5, 5), 4)], 150)).toEqual([app(2n, 4, 3, ents(5, 5), 4)]);
  });

  it('keeps the highest accepting MsgAppResp per peer and term, never merging across a rejection', () => {
    const resp = (index: number, p: Partial<Message> = {}): Message => msg({ type: MessageType.MsgAppResp, from: 2n, to: 1n, index, ...p });
    const vote = msg({ type: MessageType.MsgVoteResp, to: 1n });
    expect(coalesceMessages([resp(5), vote, resp(7), resp(6)], 1 << 20)).toEqual([resp(7), vote]);
    const rej = resp(7, { reject: true, rejectHint: 5 });
    expect(coalesceMessages([resp(5), rej, resp(6), resp(8)], 1 << 20)).toEqual([resp(5), rej, resp(8)]);
    expect(coalesceMessages([resp(5), resp(6, { term: 4 })], 1 << 20)).toEqual([resp(5), resp(6, { term: 4 })]);
    expect(coalesceMessages([resp(5), resp(6, { to: 3n })], 1 << 20)).toEqual([resp(5), resp(6, { to: 3n })]);
  });
});

describe('a Ready coalesces', () => {
  const node = (id: number): RawNode => {
    const rng = new Rng(id);
    return new RawNode({ id: BigInt(id), electionTick: 10, heartbeatTick: 1, storage: MemoryStorage.withConfState(confState([1, 2, 3])), rng: () => rng.next() });
  };

  it("a leader's appends for proposals forwarded in several MsgProps: one MsgApp per follower", () => {
    const n = node(1);
    n.raft.becomeCandidate();
    n.raft.becomeLeader();
    for (const id of [2n, 3n]) {
      const pr = n.raft.prs.progress.get(id)!;
      pr.match = 1; // the followers have the leader's empty entry: appends stream (StateReplicate)
      pr.next = 2;
      pr.becomeReplicate();
    }
    n.ready();
    for (const [from, data] of [[2n, 'a'], [3n, 'b'], [2n, 'c']] as const) {
      n.step(msg({ type: MessageType.MsgProp, from, to: 1n, term: 0, entries: [{ term: 0, index: 0, type: EntryType.EntryNormal, data: text(data) }] }));
    }
    n.proposeBatch([text('d'), text('e')]);
    const apps = n.ready().messages.filter((m) => m.type === MessageType.MsgApp);
    expect(apps.map((m) => [m.to, m.index, m.entries.map((e) => e.index)])).toEqual([[2n, 1, [2, 3, 4, 5, 6]], [3n, 1, [2, 3, 4, 5, 6]]]);
    expect(n.raft.state).toBe(StateType.StateLeader);
  });

  it("a follower's answers to several appends in one Ready: one MsgAppResp", () => {
    const n = node(2);
    n.step(app(2n, 0, 0, ents(1, 2, 1), 0));
    n.step(app(2n, 2, 1, ents(3, 3, 1), 2));
    n.step(app(2n, 3, 1, ents(4, 5, 1), 3));
    const rd = n.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(rd.messages.map((m) => [MessageType[m.type], m.to, m.index, m.reject])).toEqual([['MsgAppResp', 1n, 5, false]]);
  });
});
