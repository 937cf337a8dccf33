// The raft state shared by every role: terms, votes, the log, the tracker, timers in ticks, the outbox.
// Role-specific message handling lives in step-*.ts; the dispatcher (step.ts) is injected as `handle`.
import { applySimple, ConfChangeError, type ChangeResult, restoreConfState } from './confchange.js';
import { decodeConfChange } from './confchange-codec.js';
import { ErrCompacted, ErrSnapshotTemporarilyUnavailable, ErrUnavailable, invariant } from './errors.js';
import { RaftLog } from './log.js';
import { ProgressStateType } from './progress.js';
import { VoteResult } from './quorum.js';
import { ReadOnly } from './read-only.js';
import { isEmptySnap } from './storage.js';
import { defaultMaxInflightMsgs, defaultMaxSizePerMsg, type RaftConfig, type ReadState, type SoftState, StateType } from './state.js';
import { ProgressTracker } from './tracker.js';
import { type ConfChange, type ConfState, type Entry, EntryType, type HardState, type Message, MessageType, type NodeId, None } from './types.js';
import { discardLogger, type MessageInit, newMessage, payloadsSize, type RaftLogger } from './util.js';

export { StateType, type SoftState, type ReadState, type RaftConfig, defaultMaxSizePerMsg, defaultMaxInflightMsgs, maxPendingReadIndexMessages, type CampaignType, campaignTransferCtx } from './state.js';

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = None;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  prs: ProgressTracker;
  state = StateType.StateFollower;
  isLearner = false;
  msgs: Message[] = [];
  lead: NodeId = None;
  leadTransferee: NodeId = None;
  /** Only one conf change may be pending (appended but not applied); this is its index bound. */
  pendingConfIndex = 0;
  uncommittedSize = 0;
  readOnly = new ReadOnly();
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly disableProposalForwarding: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  readonly rng: () => number;
  readonly logger: RaftLogger;
  /** The message dispatcher (step.ts), injected to keep the import graph acyclic. */
  handle: (m: Message) => void = () => {};

  constructor(c: RaftConfig) {
    invariant(c.id !== None, 'cannot use none as id');
    invariant(c.heartbeatTick > 0, 'heartbeat tick must be greater than 0');
    invariant(c.electionTick > c.heartbeatTick, 'election tick must be greater than heartbeat tick');
    this.id = c.id;
    this.maxMsgSize = c.maxSizePerMsg ?? defaultMaxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize || Number.POSITIVE_INFINITY;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? this.maxMsgSize);
    this.prs = new ProgressTracker(c.maxInflightMsgs ?? defaultMaxInflightMsgs);
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.rng = c.rng;
    this.logger = c.logger ?? discardLogger;
    const { hardState, confState } = c.storage.initialState();
    this.switchToConfig(restoreConfState(confState, this.raftLog.lastIndex(), this.prs.maxInflight));
    if (hardState.term !== 0 || hardState.vote !== None || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied && c.applied > 0) {
      const from = this.raftLog.applied + 1;
      this.raftLog.appliedTo(c.applied);
      this.replayConfChanges(from, c.applied);
    }
    this.becomeFollower(this.term, None);
    this.logger.info('newRaft', { id: this.id, term: this.term, commit: this.raftLog.committed, applied: this.raftLog.applied, lastIndex: this.raftLog.lastIndex() });
  }

  /**
   * The configuration in storage is the snapshot's; conf changes in (snapshot, applied] were applied by
   * the application before a restart and will not be handed out again, so re-apply them here. (etcd's
   * raft leaves this to the server, which restarts with applied = snapshot index and re-applies them.)
   */
  private replayConfChanges(from: number, to: number): void {
    if (to < from) return;
    for (const e of this.raftLog.slice(from, to + 1, Number.POSITIVE_INFINITY)) {
      if (e.type !== EntryType.EntryConfChange) continue;
      let cc: ConfChange;
      try {
        cc = decodeConfChange(e.data);
      } catch {
        continue; // committed as garbage: the leader replaced such proposals; nothing to apply
      }
      this.applyConfChange(cc);
    }
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  private loadState(hs: HardState): void {
    invariant(hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(), `hs.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Queue a message for the next Ready, stamping from and (except votes, props, reads) the term. */
  send(init: MessageInit): void {
    const m = newMessage(init);
    if (m.from === None) m.from = this.id;
    const t = m.type;
    if (t === MessageType.MsgVote || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp) {
      invariant(m.term !== 0, `term should be set when sending ${MessageType[t]}`);
    } else {
      invariant(m.term === 0, `term should not be set when sending ${MessageType[t]} (was ${m.term})`);
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Send an append (or a snapshot when the entries are compacted) to `to`. False if nothing sent. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    let term: number | undefined;
    let ents: Entry[] | undefined;
    try {
      term = this.raftLog.term(pr.next - 1);
      ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (!(e instanceof ErrCompacted || e instanceof ErrUnavailable)) throw e;
    }
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;
    if (term === undefined || ents === undefined) return this.sendSnapshot(to);
    const prevIndex = pr.next - 1;
    if (ents.length > 0) {
      const last = ents[ents.length - 1]!.index;
      if (pr.state === ProgressStateType.StateReplicate) {
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
      } else if (pr.state === ProgressStateType.StateProbe) {
        pr.probeSent = true;
      } else invariant(false, `${this.id} is sending append in unhandled state ${pr.stateName()}`);
    }
    this.send({ to, type: MessageType.MsgApp, index: prevIndex, logTerm: term, entries: ents, commit: this.raftLog.committed });
    return true;
  }

  private sendSnapshot(to: NodeId): boolean {
    const pr = this.prs.progress.get(to)!;
    if (!pr.recentActive) {
      this.logger.debug('ignore sending snapshot as node is not recently active', { to });
      return false;
    }
    let snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (e) {
      if (e instanceof ErrSnapshotTemporarilyUnavailable) return false;
      throw e;
    }
    invariant(!isEmptySnap(snapshot), 'need non-empty snapshot');
    this.logger.debug('sending snapshot', { to, index: snapshot.metadata.index, term: snapshot.metadata.term });
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send({ to, type: MessageType.MsgSnap, snapshot });
    return true;
  }

  sendHeartbeat(to: NodeId, ctx: Uint8Array | undefined): void {
    const pr = this.prs.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send({ to, type: MessageType.MsgHeartbeat, commit, context: ctx });
  }

  bcastAppend(): void {
    this.prs.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx());
  }

  bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    this.prs.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const last = this.raftLog.lastIndex();
    this.prs.visit((id, pr) => {
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.state = ProgressStateType.StateProbe;
      pr.pendingSnapshot = 0;
      pr.probeSent = false;
      pr.recentActive = false;
      pr.inflights.reset();
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  /** Leader: append proposals to its own log. False when the uncommitted-size limit refuses them. */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const ents = es.map((e, i) => ({ term: this.term, index: li + 1 + i, type: e.type, data: e.data }));
    if (!this.increaseUncommittedSize(ents)) {
      this.logger.debug('appending new entries would exceed uncommitted entry size limit; dropping proposal', { id: this.id });
      return false;
    }
    li = this.raftLog.append(ents);
    this.prs.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  tick(): void {
    if (this.state === StateType.StateLeader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.handle(newMessage({ from: this.id, type: MessageType.MsgHup }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.handle(newMessage({ from: this.id, type: MessageType.MsgCheckQuorum }));
      if (this.state === StateType.StateLeader && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.StateLeader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.handle(newMessage({ from: this.id, type: MessageType.MsgBeat }));
    }
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.StateFollower;
    this.logger.info('became follower', { id: this.id, term, lead });
  }

  becomeCandidate(): void {
    invariant(this.state !== StateType.StateLeader, 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.StateCandidate;
    this.logger.info('became candidate', { id: this.id, term: this.term });
  }

  becomePreCandidate(): void {
    invariant(this.state !== StateType.StateLeader, 'invalid transition [leader -> pre-candidate]');
    // Neither the term nor the vote changes: a pre-vote disturbs nobody.
    this.prs.resetVotes();
    this.lead = None;
    this.state = StateType.StatePreCandidate;
    this.logger.info('became pre-candidate', { id: this.id, term: this.term });
  }

  becomeLeader(): void {
    invariant(this.state !== StateType.StateFollower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.StateLeader;
    const self = this.prs.progress.get(this.id);
    self?.becomeReplicate();
    if (self) self.recentActive = true;
    // Conf changes in the uncommitted tail may be pending: refuse new ones until all of it is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    const empty: Entry = { term: 0, index: 0, type: EntryType.EntryNormal, data: new Uint8Array(0) };
    invariant(this.appendEntry([empty]), 'empty entry was dropped');
    this.logger.info('became leader', { id: this.id, term: this.term });
  }

  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  poll(id: NodeId, t: MessageType, v: boolean): VoteResult {
    this.logger.debug(v ? 'received vote' : 'received rejection', { id: this.id, from: id, type: MessageType[t], term: this.term });
    this.prs.recordVote(id, v);
    return this.prs.tallyVotes().result;
  }

  /** Apply a committed conf change; a change that is invalid (e.g. removes the last voter) is ignored. */
  applyConfChange(cc: ConfChange): ConfState {
    let res: ChangeResult;
    try {
      res = applySimple(this.prs, this.raftLog.lastIndex(), [cc]);
    } catch (e) {
      if (!(e instanceof ConfChangeError)) throw e;
      this.logger.error('ignoring invalid conf change', { id: this.id, err: e.message, nodeId: cc.nodeId, type: cc.type });
      return this.prs.confState();
    }
    return this.switchToConfig(res);
  }

  switchToConfig(res: ChangeResult): ConfState {
    this.prs.config = res.config;
    this.prs.progress = res.progress;
    const cs = this.prs.confState();
    const pr = this.prs.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === StateType.StateLeader) return cs;
    if (this.state !== StateType.StateLeader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) this.bcastAppend();
    else this.prs.visit((id) => { if (id !== this.id) this.maybeSendAppend(id, false); });
    if (this.leadTransferee !== None && !this.prs.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.rng() * this.electionTimeout);
  }

  sendTimeoutNow(to: NodeId): void {
    this.send({ to, type: MessageType.MsgTimeoutNow });
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadsSize(ents);
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.state !== StateType.StateLeader) return;
    const s = payloadsSize(ents);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }
}
