import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode } from '../../../src/raft/index.js';
import { ConfChangeType, EntryType, MessageType, type Entry, type HardState, type Message } from '../../../src/raft/types.js';
import { RaftNode } from '../../../src/server/raft-node.js';
import { NoPeersTransport, type Transport } from '../../../src/transport/index.js';
import type { Snapshotter, WAL } from '../../../src/wal/index.js';

/** A WAL whose saves complete only when the test says so. */
class HeldWal {
  held = false;
  saved: Entry[] = [];
  /** Each save of a hard state alone: the commit it carried and whether it was synced. */
  commitOnly: Array<{ commit: number; sync: boolean }> = [];
  /** The inline flag of every save that held an entry with data, in order. */
  inlines: boolean[] = [];
  constructor(private readonly log: string[] = []) {}
  private releases: Array<() => void> = [];
  save(hs: HardState | undefined, entries: Entry[], mustSync = true, inline = false): Promise<void> {
    if (hs && entries.length === 0) this.commitOnly.push({ commit: hs.commit, sync: mustSync });
    for (const e of entries) if (e.data.length > 0) this.log.push(`save ${Buffer.from(e.data).toString()}`);
    if (entries.some((e) => e.data.length > 0)) this.inlines.push(inline);
    return new Promise((resolve) => {
      const done = () => {
        this.saved.push(...entries);
        resolve();
      };
      if (this.held) this.releases.push(done);
      else done();
    });
  }
  release(): void {
    this.held = false;
    this.releaseHeld();
  }
  /** Completes the writes waiting now; later ones wait too while `held` stays set. */
  releaseHeld(): void {
    for (const r of this.releases.splice(0)) r();
  }
}

const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 1));
  }
};

function singleMember(log: string[] = [], opts: { alone?: () => boolean; idleMs?: () => number; onApply?: (e: Entry) => void; learners?: bigint[]; voters?: bigint[]; transport?: Transport } = {}) {
  const storage = MemoryStorage.withConfState({ voters: opts.voters ?? [1n], learners: opts.learners ?? [], votersOutgoing: [], learnersNext: [], autoLeave: false });
  const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, rng: () => 0.5, preVote: false });
  const wal = new HeldWal(log);
  const applied: Entry[] = [];
  const rn = new RaftNode(node, storage, wal as unknown as WAL, {} as Snapshotter, opts.transport ?? new NoPeersTransport(), {
    applyEntries: (es) => {
      applied.push(...es);
      for (const e of es) if (e.data.length > 0) log.push(`apply ${Buffer.from(e.data).toString()}`);
      for (const e of es) opts.onApply?.(e);
    },
    applySnapshot: async () => undefined,
    onSoftState: () => undefined,
    onReadStates: () => undefined,
    afterApply: async () => undefined,
    onFatal: (err) => {
      throw err;
    },
  }, { tickMs: 1000, logger: pino({ level: 'silent' }), alone: opts.alone, idleMs: opts.idleMs });
  return { node, wal, applied, rn };
}

const hasData = (es: Entry[], d: string): boolean => es.some((e) => Buffer.from(e.data).toString() === d);

/** A member that has elected itself and applied its leader's empty entry, its WAL now holding writes. */
async function electedWithHeldWal(log: string[] = []) {
  const m = singleMember(log);
  m.node.campaign();
  m.rn.kick();
  await until(() => m.node.status().softState.lead === 1n && m.applied.length > 0);
  m.wal.held = true;
  return m;
}

describe('the Ready loop of a cluster of one', () => {
  it('never applies (acknowledges) an entry before the WAL write holding it completes', async () => {
    const { wal, applied, rn } = await electedWithHeldWal();
    rn.propose(Buffer.from('x'));
    await new Promise((r) => setTimeout(r, 20)); // the loop now waits on the held write
    expect(applied.some((e) => Buffer.from(e.data).toString() === 'x')).toBe(false);
    wal.release();
    await until(() => applied.some((e) => Buffer.from(e.data).toString() === 'x'));
    expect(wal.saved.some((e) => Buffer.from(e.data).toString() === 'x')).toBe(true);
    await rn.stop();
  });
});

describe('the Ready loop of a sole voter with a learner', () => {
  it('sends nothing carrying a commit index before the WAL write of the entries it commits completes (etcd\'s shouldWaitWALSync)', async () => {
    const sent: Message[] = [];
    const transport: Transport = { send: (ms) => void sent.push(...ms), addPeer() {}, removePeer() {}, updatePeer() {}, close: async () => undefined };
    const m = singleMember([], { learners: [2n], transport });
    m.node.campaign();
    m.rn.kick();
    await until(() => m.node.status().softState.lead === 1n && m.applied.length > 0);
    // the learner has everything: the leader replicates to it at once from now on
    const last = m.node.raft.raftLog.lastIndex();
    const term = m.node.status().hardState.term;
    m.rn.step({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term, logTerm: 0, index: last, entries: [], commit: 0, snapshot: undefined, reject: false, rejectHint: 0, context: undefined });
    await until(() => m.node.status().progress?.get(2n)?.match === last);
    m.wal.held = true;
    sent.length = 0;
    m.rn.propose(Buffer.from('x'));
    await new Promise((r) => setTimeout(r, 20)); // the loop now waits on the held write of x
    // a learner told of the commit would apply x, which a crash now could take from the leader
    expect(sent.filter((msg) => msg.commit > last)).toEqual([]);
    m.wal.release();
    await until(() => sent.some((msg) => msg.type === MessageType.MsgApp && msg.commit > last));
    await m.rn.stop();
  });
});

describe('a committed conf change', () => {
  it('is applied, and the leader tells of its commit, only once that commit is synced to the WAL', async () => {
    const sent: Message[] = [];
    const transport: Transport = { send: (ms) => void sent.push(...ms), addPeer() {}, removePeer() {}, updatePeer() {}, close: async () => undefined };
    const m = singleMember([], { voters: [1n, 2n], transport });
    const answer = (type: MessageType, index = 0): void =>
      m.rn.step({ type, from: 2n, to: 1n, term: m.node.status().hardState.term, logTerm: 0, index, entries: [], commit: 0, snapshot: undefined, reject: false, rejectHint: 0, context: undefined });
    m.node.campaign();
    m.rn.kick();
    await until(() => sent.some((msg) => msg.type === MessageType.MsgVote));
    answer(MessageType.MsgVoteResp);
    await until(() => m.node.status().softState.lead === 1n);
    answer(MessageType.MsgAppResp, m.node.raft.raftLog.lastIndex());
    await until(() => m.applied.length > 0);
    m.node.proposeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n });
    m.rn.kick();
    const cc = (): Entry | undefined => m.wal.saved.find((e) => e.type === EntryType.EntryConfChange);
    await until(() => cc() !== undefined);
    // the follower has it: the next Ready commits it with a hard state alone, whose write is held
    m.wal.held = true;
    sent.length = 0;
    answer(MessageType.MsgAppResp, cc()!.index);
    await until(() => m.wal.commitOnly.some((h) => h.commit >= cc()!.index));
    await new Promise((r) => setTimeout(r, 20));
    expect(m.applied.some((e) => e.type === EntryType.EntryConfChange)).toBe(false);
    expect(sent.filter((msg) => msg.commit >= cc()!.index)).toEqual([]);
    expect(m.wal.commitOnly.find((h) => h.commit >= cc()!.index)!.sync).toBe(true);
    m.wal.release();
    await until(() => m.applied.some((e) => e.type === EntryType.EntryConfChange));
    await m.rn.stop();
  });
});

describe('the Ready loop pipelines apply with the next save', () => {
  it('issues the next batch\'s write before applying the batch whose write just completed', async () => {
    const log: string[] = [];
    const { wal, applied, rn } = await electedWithHeldWal(log);
    rn.propose(Buffer.from('a'));
    await until(() => log.includes('save a'));
    rn.propose(Buffer.from('b')); // collects in raft while a's write is held
    await new Promise((r) => setTimeout(r, 5));
    wal.releaseHeld(); // a is durable; b's write will be held
    await until(() => hasData(applied, 'a'));
    expect(log).toEqual(['save a', 'save b', 'apply a']);
    expect(hasData(applied, 'b')).toBe(false); // b's write has not completed
    wal.release();
    await until(() => hasData(applied, 'b'));
    expect(log).toEqual(['save a', 'save b', 'apply a', 'apply b']);
    await rn.stop();
  });

  it('applies a durable batch at once when nothing else is waiting to be saved', async () => {
    const log: string[] = [];
    const { wal, applied, rn } = await electedWithHeldWal(log);
    rn.propose(Buffer.from('x'));
    await until(() => log.includes('save x'));
    wal.release();
    await until(() => hasData(applied, 'x'));
    expect(log).toEqual(['save x', 'apply x']);
    await rn.stop();
  });
});

describe('inline WAL writes', () => {
  it('writes a lone entry inline only when the member is alone and the loop waited for it', async () => {
    let alone = true;
    // the event loop's idle time, advanced by hand: the real one depends on the machine's load
    let idle = 0;
    const m = singleMember([], {
      alone: () => alone,
      idleMs: () => idle,
      // a client answered and heard from at once, before the loop polls again: not "waited"
      onApply: (e) => {
        if (Buffer.from(e.data).toString() === 'b') m.rn.propose(Buffer.from('c'));
      },
    });
    m.node.campaign();
    m.rn.kick();
    await until(() => m.node.status().softState.lead === 1n && m.applied.length > 0);
    const saved = async (n: number): Promise<void> => until(() => m.wal.inlines.length >= n);
    const waitForClient = (): void => {
      idle += 5; // the loop idles, as when waiting for a lone client
    };
    waitForClient();
    m.rn.propose(Buffer.from('a'));
    await saved(1);
    waitForClient();
    m.rn.propose(Buffer.from('b'));
    await saved(3); // b, then c proposed while b was applied
    waitForClient();
    m.rn.proposeBatch([Buffer.from('d'), Buffer.from('e')]); // two entries in one save
    await saved(4);
    waitForClient();
    alone = false;
    m.rn.propose(Buffer.from('f'));
    await saved(5);
    expect(m.wal.inlines).toEqual([true, true, false, false, false]);
    await m.rn.stop();
  });
});
