// RawNode: the application's handle on a Raft. Inputs go in through tick/step/propose/...; every output
// comes back through ready(), which the application persists, sends and applies before advance().
import { coalesceMessages } from './coalesce.js';
import { decodeConfChange, encodeConfChange } from './confchange-codec.js';
import { ErrProposalDropped, ErrStepLocalMsg, ErrStepPeerNotFound } from './errors.js';
import { Raft, type RaftConfig, type ReadState, type SoftState, StateType } from './raft.js';
import { emptyHardState } from './storage.js';
import { newRaftStepper } from './step.js';
import { type ConfChange, ConfChangeType, type ConfState, type Entry, EntryType, type HardState, type Message, MessageType, type NodeId, None, type Snapshot } from './types.js';
import { isLocalMsg, isResponseMsg, newMessage } from './util.js';

export interface Ready {
  /** Only when changed since the last Ready. */
  softState?: SoftState;
  /** Only when changed; persist before sending the messages that depend on it. */
  hardState?: HardState;
  readStates: ReadState[];
  /** To append to stable storage (WAL), then to the Storage. */
  entries: Entry[];
  /** To persist and apply, when present. */
  snapshot?: Snapshot;
  /** To apply, in order. */
  committedEntries: Entry[];
  messages: Message[];
  /** Whether the WAL write must be fdatasync'ed. */
  mustSync: boolean;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  progress?: Map<NodeId, { match: number; next: number; state: string }>;
}

export class RawNode {
  readonly raft: Raft;
  private readonly stepFn: (m: Message) => void;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.stepFn = newRaftStepper(this.raft);
    this.prevSoftSt = this.raft.softState();
    // A restarted node has already persisted its hard state: do not hand it out again.
    this.prevHardSt = config.storage.initialState().hardState;
    if (this.prevHardSt.term === 0 && this.prevHardSt.vote === None && this.prevHardSt.commit === 0) this.prevHardSt = emptyHardState();
  }

  /**
   * Start a brand-new cluster member as etcd does: the log begins with one committed ConfChangeAddNode
   * entry per initial peer (term 1, indexes 1..n), already applied to raft's configuration. The first
   * Ready hands them out to persist and to apply. Throws when the storage is not empty.
   */
  bootstrap(peers: { id: NodeId; context?: Uint8Array }[]): void {
    if (peers.length === 0) throw new Error('must provide at least one peer to Bootstrap');
    if (this.raft.raftLog.storage.lastIndex() !== 0) throw new Error('can\'t bootstrap a nonempty Storage');
    this.prevHardSt = emptyHardState();
    this.raft.becomeFollower(1, None);
    const ents: Entry[] = peers.map((p, i) => ({
      term: 1, index: i + 1, type: EntryType.EntryConfChange,
      data: encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id, context: p.context }),
    }));
    this.raft.raftLog.append(ents);
    this.raft.raftLog.committed = ents.length;
    for (const p of peers) this.raft.applyConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id });
  }

  tick(): void {
    this.raft.tick();
  }

  campaign(): void {
    this.stepFn(newMessage({ type: MessageType.MsgHup, from: this.raft.id }));
  }

  /** Throws ErrProposalDropped when there is no leader, a transfer is under way, or limits refuse it. */
  propose(data: Uint8Array): void {
    this.stepFn(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.EntryNormal, data }] }));
  }

  /**
   * Propose several entries in one message: one append to the log and one MsgApp per follower for the
   * whole batch (the server's group commit). All or none: throws ErrProposalDropped as propose().
   */
  proposeBatch(datas: Uint8Array[]): void {
    if (datas.length === 0) return;
    const entries = datas.map((data) => ({ term: 0, index: 0, type: EntryType.EntryNormal, data }));
    this.stepFn(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries }));
  }

  /** Throws ErrProposalDropped as propose(). An inadmissible change is committed as an empty entry. */
  proposeConfChange(cc: ConfChange): void {
    const data = encodeConfChange(cc);
    this.stepFn(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.EntryConfChange, data }] }));
  }

  /** Called by the application when it applies a committed conf-change entry. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * A message from a peer. Bad input never throws: local message types, responses from unknown peers,
   * malformed appends and proposals the leader cannot take are logged and dropped (etcd returns an error
   * the server ignores). Returns the reason when the message was dropped.
   */
  step(m: Message): Error | undefined {
    if (isLocalMsg(m.type)) return this.drop(m, new ErrStepLocalMsg());
    if (!this.raft.prs.progress.has(m.from) && isResponseMsg(m.type)) return this.drop(m, new ErrStepPeerNotFound());
    if (!wellFormed(m, this.raft.raftLog.lastIndex())) return this.drop(m, new Error('raft: malformed message'));
    try {
      this.stepFn(m);
    } catch (e) {
      if (e instanceof ErrProposalDropped) return e;
      throw e;
    }
    return undefined;
  }

  private drop(m: Message, e: Error): Error {
    this.raft.logger.warn('dropped message', { id: this.raft.id, from: m.from, type: MessageType[m.type] ?? m.type, err: e.message });
    return e;
  }

  readIndex(requestCtx: Uint8Array): void {
    this.stepFn(newMessage({ type: MessageType.MsgReadIndex, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.EntryNormal, data: requestCtx }] }));
  }

  transferLeader(to: NodeId): void {
    this.stepFn(newMessage({ type: MessageType.MsgTransferLeader, from: to }));
  }

  reportUnreachable(id: NodeId): void {
    this.stepFn(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  reportSnapshot(id: NodeId, failed: boolean): void {
    this.stepFn(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: failed }));
  }

  hasReady(): boolean {
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftSt)) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardSt)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextEnts()) return true;
    return r.readStates.length > 0;
  }

  /** Everything to persist, send (appends and their answers coalesced: coalesce.ts) and apply. The caller must call advance(rd) when done. */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      entries: r.raftLog.unstableEntries().slice(),
      committedEntries: r.raftLog.nextEnts(),
      messages: coalesceMessages(r.msgs, r.maxMsgSize),
      readStates: r.readStates,
      mustSync: false,
    };
    const ss = r.softState();
    if (!softStateEqual(ss, this.prevSoftSt)) {
      rd.softState = ss;
      this.prevSoftSt = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardSt)) rd.hardState = hs;
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    rd.mustSync = rd.entries.length > 0 || (rd.hardState !== undefined && (hs.vote !== this.prevHardSt.vote || hs.term !== this.prevHardSt.term));
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /**
   * Committed entries of the current Ready up to `index` are applied already, ahead of advance():
   * raft's applied index moves now, so a conf change proposed by a client answered from them is not
   * taken for one proposed while the previous is unapplied.
   */
  appliedTo(index: number): void {
    if (index > this.raft.raftLog.applied) this.raft.raftLog.appliedTo(index);
  }

  /** The Ready has been persisted, its messages sent and its committed entries applied. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.hardState) this.prevHardSt = rd.hardState;
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    const newApplied = last ? last.index : rd.snapshot ? rd.snapshot.metadata.index : 0;
    if (newApplied > 0) r.raftLog.appliedTo(newApplied);
    r.reduceUncommittedSize(rd.committedEntries);
    const e = rd.entries[rd.entries.length - 1];
    if (e) r.raftLog.stableTo(e.index, e.term);
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  status(): Status {
    const r = this.raft;
    const st: Status = { id: r.id, hardState: r.hardState(), softState: r.softState(), applied: r.raftLog.applied };
    if (r.state === StateType.StateLeader) {
      st.progress = new Map();
      r.prs.visit((id, pr) => st.progress!.set(id, { match: pr.match, next: pr.next, state: pr.stateName() }));
    }
    return st;
  }
}

/**
 * Reject appends whose entries are not contiguous after m.index or carry a term above the message's, and
 * acknowledgements of entries we do not have (a leader's log only grows within its term).
 */
function wellFormed(m: Message, lastIndex: number): boolean {
  if (m.type === MessageType.MsgAppResp && !m.reject && m.index > lastIndex) return false;
  if (m.type === MessageType.MsgApp) {
    let prevTerm = m.logTerm;
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.index !== m.index + 1 + i || e.term < prevTerm || e.term > m.term || !(e.data instanceof Uint8Array)) return false;
      prevTerm = e.term;
    }
  }
  if (m.type === MessageType.MsgSnap) return m.snapshot !== undefined && m.snapshot.metadata.index > 0;
  return true;
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function isEmptyHardState(a: HardState): boolean {
  return a.term === 0 && a.vote === None && a.commit === 0;
}

export { decodeConfChange };
