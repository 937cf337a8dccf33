// Follower and (pre-)candidate handlers, and what a follower does with appends, heartbeats, snapshots.
import { restoreConfState } from './confchange.js';
import { campaign, hup } from './election.js';
import { ErrProposalDropped } from './errors.js';
import { type Raft, StateType } from './raft.js';
import { VoteResult } from './quorum.js';
import { type Message, MessageType, None } from './types.js';

export function stepCandidate(r: Raft, m: Message): void {
  const myVoteRespType = r.state === StateType.StatePreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      r.logger.info('no leader; dropping proposal', { id: r.id, term: r.term });
      throw new ErrProposalDropped();
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from);
      return handleAppendEntries(r, m);
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      return handleHeartbeat(r, m);
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      return handleSnapshot(r, m);
    case myVoteRespType: {
      const res = r.poll(m.from, m.type, !m.reject);
      if (res === VoteResult.VoteWon) {
        if (r.state === StateType.StatePreCandidate) campaign(r, 'CampaignElection');
        else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (res === VoteResult.VoteLost) {
        // A pre-candidate keeps its term; a candidate stays in the term it started.
        r.becomeFollower(r.term, None);
      }
      return;
    }
    case MessageType.MsgTimeoutNow:
      r.logger.debug('ignored MsgTimeoutNow', { id: r.id, term: r.term, state: StateType[r.state], from: m.from });
      return;
  }
}

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === None) {
        r.logger.info('no leader; dropping proposal', { id: r.id, term: r.term });
        throw new ErrProposalDropped();
      }
      if (r.disableProposalForwarding) throw new ErrProposalDropped();
      r.send({ ...m, to: r.lead, term: 0 });
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      return handleAppendEntries(r, m);
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      return handleHeartbeat(r, m);
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      return handleSnapshot(r, m);
    case MessageType.MsgTransferLeader:
    case MessageType.MsgReadIndex:
      if (r.lead === None) {
        r.logger.info('no leader; dropping', { id: r.id, term: r.term, type: MessageType[m.type] });
        return;
      }
      // A transfer request may itself have been forwarded (it then carries a term): forward it afresh.
      r.send({ ...m, to: r.lead, term: 0 });
      return;
    case MessageType.MsgTimeoutNow:
      r.logger.info('received MsgTimeoutNow; starting election to transfer leadership', { id: r.id, term: r.term, from: m.from });
      // Leadership transfers never use pre-vote: the old leader asked for it.
      hup(r, 'CampaignTransfer');
      return;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.error('invalid format of MsgReadIndexResp', { id: r.id, from: m.from, entries: m.entries.length });
        return;
      }
      r.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
      return;
  }
}

export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: r.raftLog.committed });
    return;
  }
  const mlastIndex = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (mlastIndex !== undefined) {
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: mlastIndex });
    return;
  }
  // Reject with a hint: the largest index <= m.index whose term is <= m.logTerm, and its term.
  let hintIndex = Math.min(m.index, r.raftLog.lastIndex());
  hintIndex = r.raftLog.findConflictByTerm(hintIndex, m.logTerm);
  const hintTerm = r.raftLog.termOrZero(hintIndex);
  r.logger.debug('rejected MsgApp', { id: r.id, logTerm: m.logTerm, index: m.index, hintIndex, hintTerm, from: m.from });
  r.send({ to: m.from, type: MessageType.MsgAppResp, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm });
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send({ to: m.from, type: MessageType.MsgHeartbeatResp, context: m.context });
}

export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (!s) return;
  if (restore(r, m)) {
    r.logger.info('restored snapshot', { id: r.id, commit: r.raftLog.committed, index: s.metadata.index, term: s.metadata.term });
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: r.raftLog.lastIndex() });
  } else {
    r.logger.info('ignored snapshot', { id: r.id, commit: r.raftLog.committed, index: s.metadata.index, term: s.metadata.term });
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: r.raftLog.committed });
  }
}

/** Replace the log with a snapshot. False when the snapshot is old or already matches our log. */
function restore(r: Raft, m: Message): boolean {
  const s = m.snapshot!;
  if (s.metadata.index <= r.raftLog.committed) return false;
  if (r.state !== StateType.StateFollower) {
    // Defensive (cannot happen: stepCandidate became follower first). Never restore as leader.
    r.logger.warn('attempted to restore snapshot as leader; should never happen', { id: r.id });
    r.becomeFollower(r.term + 1, None);
    return false;
  }
  const cs = s.metadata.confState;
  const found = [...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(r.id);
  if (!found) {
    r.logger.warn('attempted to restore snapshot but it is not in the ConfState; should never happen', { id: r.id });
    return false;
  }
  if (r.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
    // We already have the snapshot's last entry: just fast-forward the commit index.
    r.raftLog.commitTo(s.metadata.index);
    return false;
  }
  r.raftLog.restore(s);
  r.prs.resetVotes();
  r.switchToConfig(restoreConfState(cs, r.raftLog.lastIndex(), r.prs.maxInflight));
  return true;
}
