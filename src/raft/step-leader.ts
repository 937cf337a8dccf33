// The leader's message handlers: proposals, reads, heartbeats, append responses, transfer, quorum check.
import { applySimple, ConfChangeError } from './confchange.js';
import { decodeConfChange } from './confchange-codec.js';
import { ErrProposalDropped } from './errors.js';
import type { Progress } from './progress.js';
import { ProgressStateType } from './progress.js';
import { VoteResult } from './quorum.js';
import { maxPendingReadIndexMessages, type Raft } from './raft.js';
import { type Entry, EntryType, type Message, MessageType, None } from './types.js';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat();
      return;
    case MessageType.MsgCheckQuorum:
      return checkQuorum(r);
    case MessageType.MsgProp:
      return handlePropose(r, m);
    case MessageType.MsgReadIndex:
      return handleReadIndex(r, m);
  }
  const pr = r.prs.progress.get(m.from);
  if (!pr) {
    r.logger.debug('no progress available for sender', { id: r.id, from: m.from, type: MessageType[m.type] });
    return;
  }
  switch (m.type) {
    case MessageType.MsgAppResp:
      return handleAppendResponse(r, m, pr);
    case MessageType.MsgHeartbeatResp:
      return handleHeartbeatResponse(r, m, pr);
    case MessageType.MsgSnapStatus:
      if (pr.state !== ProgressStateType.StateSnapshot) return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for a heartbeat response (or the next MsgAppResp) before probing again.
      pr.probeSent = true;
      return;
    case MessageType.MsgUnreachable:
      // The transport dropped an append: probe again instead of streaming into the void.
      if (pr.state === ProgressStateType.StateReplicate) pr.becomeProbe();
      return;
    case MessageType.MsgTransferLeader:
      return handleTransferLeader(r, m, pr);
  }
}

function checkQuorum(r: Raft): void {
  const self = r.prs.progress.get(r.id);
  if (self) self.recentActive = true;
  if (!r.prs.quorumActive()) {
    r.logger.warn('stepped down to follower since quorum is not active', { id: r.id, term: r.term });
    r.becomeFollower(r.term, None);
  }
  // Every window starts anew (the leader stays active).
  r.prs.visit((id, pr) => {
    if (id !== r.id) pr.recentActive = false;
  });
}

function handlePropose(r: Raft, m: Message): void {
  if (m.entries.length === 0) {
    r.logger.warn('stepped empty MsgProp', { id: r.id });
    return;
  }
  if (!r.prs.progress.has(r.id)) throw new ErrProposalDropped(); // removed from the configuration
  if (r.leadTransferee !== None) {
    r.logger.debug('transfer leadership is in progress; dropping proposal', { id: r.id, transferee: r.leadTransferee });
    throw new ErrProposalDropped();
  }
  const ents = m.entries.map((e, i) => (e.type === EntryType.EntryNormal ? e : checkConfChange(r, e, i)));
  if (!r.appendEntry(ents)) throw new ErrProposalDropped();
  r.bcastAppend();
}

/** A conf change that may not go ahead becomes an empty normal entry (as etcd does). */
function checkConfChange(r: Raft, e: Entry, i: number): Entry {
  let failed = '';
  if (r.pendingConfIndex > r.raftLog.applied) failed = 'possible unapplied conf change';
  else if (e.type !== EntryType.EntryConfChange) failed = 'unsupported conf change type';
  else {
    try {
      applySimple(r.prs, r.raftLog.lastIndex(), [decodeConfChange(e.data)]);
    } catch (err) {
      if (!(err instanceof ConfChangeError) && !(err instanceof RangeError)) throw err;
      failed = (err as Error).message;
    }
  }
  if (failed) {
    r.logger.info('ignoring conf change', { id: r.id, reason: failed, pendingConfIndex: r.pendingConfIndex, applied: r.raftLog.applied });
    return { term: 0, index: 0, type: EntryType.EntryNormal, data: new Uint8Array(0) };
  }
  r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
  return e;
}

function handleReadIndex(r: Raft, m: Message): void {
  if (m.entries.length !== 1) {
    r.logger.warn('invalid MsgReadIndex', { id: r.id, from: m.from });
    return;
  }
  if (r.prs.isSingleton()) {
    responseToReadIndexReq(r, m, r.raftLog.committed);
    return;
  }
  // Until an entry of this term is committed the leader's commit index may be stale: park the read.
  if (!r.committedEntryInCurrentTerm()) {
    if (r.pendingReadIndexMessages.length < maxPendingReadIndexMessages) r.pendingReadIndexMessages.push(m);
    else r.logger.warn('too many pending read index requests; dropping', { id: r.id });
    return;
  }
  sendMsgReadIndexResponse(r, m);
}

function sendMsgReadIndexResponse(r: Raft, m: Message): void {
  const ctx = m.entries[0]!.data;
  r.readOnly.addRequest(r.raftLog.committed, m);
  r.readOnly.recvAck(r.id, ctx);
  r.bcastHeartbeatWithCtx(ctx);
}

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendMsgReadIndexResponse(r, m);
}

function responseToReadIndexReq(r: Raft, req: Message, readIndex: number): void {
  if (req.from === None || req.from === r.id) {
    r.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
    return;
  }
  r.send({ type: MessageType.MsgReadIndexResp, to: req.from, index: readIndex, entries: req.entries });
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    r.logger.debug('received MsgAppResp rejection', { id: r.id, from: m.from, index: m.index, hint: m.rejectHint, logTerm: m.logTerm });
    let nextProbeIdx = m.rejectHint;
    // Skip every entry of a term the follower cannot have (fast backtracking).
    if (m.logTerm > 0) nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm);
    if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
      if (pr.state === ProgressStateType.StateReplicate) pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressStateType.StateProbe) pr.becomeReplicate();
  else if (pr.state === ProgressStateType.StateSnapshot && pr.match >= pr.pendingSnapshot) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressStateType.StateReplicate) pr.inflights.freeLE(m.index);
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    r.bcastAppend();
  } else if (oldPaused) {
    r.sendAppend(m.from);
  }
  // Send as much of the backlog as the flow control allows.
  while (r.maybeSendAppend(m.from, false)) {
    /* keep sending */
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info('sent MsgTimeoutNow after received MsgAppResp', { id: r.id, to: m.from });
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === ProgressStateType.StateReplicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex()) r.sendAppend(m.from);
  if (!m.context || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || r.prs.voteResult(acks) !== VoteResult.VoteWon) return;
  for (const rs of r.readOnly.advance(m)) responseToReadIndexReq(r, rs.req, rs.index);
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug('ignored transferring leadership to a learner', { id: r.id, to: m.from });
    return;
  }
  const transferee = m.from;
  if (r.leadTransferee !== None) {
    if (r.leadTransferee === transferee) return; // same transfer already in progress
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return;
  r.logger.info('starts to transfer leadership', { id: r.id, term: r.term, to: transferee });
  // Leadership must move within one election timeout, or the transfer is aborted (tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) r.sendTimeoutNow(transferee);
  else r.sendAppend(transferee);
}
