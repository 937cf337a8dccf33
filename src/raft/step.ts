// The message dispatcher: term checks common to every role, votes, then the role's handler.
import { hup } from './election.js';
import { campaignTransferCtx, type Raft, StateType } from './raft.js';
import { stepCandidate, stepFollower } from './step-follower.js';
import { stepLeader } from './step-leader.js';
import { type Message, MessageType, None } from './types.js';
import { ctxKey, voteRespMsgType } from './util.js';

const transferKey = ctxKey(campaignTransferCtx);

export function step(r: Raft, m: Message): void {
  if (!checkTerm(r, m)) return;
  switch (m.type) {
    case MessageType.MsgHup:
      hup(r, r.preVote ? 'CampaignPreElection' : 'CampaignElection');
      return;
    case MessageType.MsgVote:
    case MessageType.MsgPreVote:
      handleVoteRequest(r, m);
      return;
    default:
      if (r.state === StateType.StateLeader) stepLeader(r, m);
      else if (r.state === StateType.StateFollower) stepFollower(r, m);
      else stepCandidate(r, m);
  }
}

/** Returns false when the message is to be dropped because of its term. */
function checkTerm(r: Raft, m: Message): boolean {
  if (m.term === 0) return true; // local message (or a forwarded proposal / read index)
  if (m.term > r.term) {
    if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
      const force = ctxKey(m.context) === transferKey;
      const inLease = r.checkQuorum && r.lead !== None && r.electionElapsed < r.electionTimeout;
      if (!force && inLease) {
        // We heard from a leader within the election timeout: do not let a partitioned node depose it.
        r.logger.info('ignored vote request: lease is not expired', { id: r.id, term: r.term, from: m.from, msgTerm: m.term, type: MessageType[m.type] });
        return false;
      }
    }
    if (m.type === MessageType.MsgPreVote) {
      // Never change our term in response to a pre-vote.
    } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
      // The term in a granted pre-vote response is the one we will campaign in.
    } else {
      r.logger.info('received a message with higher term', { id: r.id, term: r.term, from: m.from, msgTerm: m.term, type: MessageType[m.type] });
      const leaderMsg = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
      r.becomeFollower(m.term, leaderMsg ? m.from : None);
    }
    return true;
  }
  if (m.term < r.term) {
    if ((r.checkQuorum || r.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
      // A stale leader (e.g. after a partition): tell it our term so it steps down, instead of
      // ignoring it, which could leave us with a pre-vote that never succeeds.
      r.send({ to: m.from, type: MessageType.MsgAppResp });
    } else if (m.type === MessageType.MsgPreVote) {
      r.send({ to: m.from, term: r.term, type: MessageType.MsgPreVoteResp, reject: true });
    } else {
      r.logger.debug('ignored a message with lower term', { id: r.id, term: r.term, from: m.from, msgTerm: m.term, type: MessageType[m.type] });
    }
    return false;
  }
  return true;
}

function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from || (r.vote === None && r.lead === None) || (m.type === MessageType.MsgPreVote && m.term > r.term);
  const resp = voteRespMsgType(m.type);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.logger.info('cast vote', { id: r.id, type: MessageType[m.type], for: m.from, term: r.term, msgTerm: m.term });
    // The response carries the requested term: for a pre-vote our term is still lower.
    r.send({ to: m.from, term: m.term, type: resp });
    if (m.type === MessageType.MsgVote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info('rejected vote', { id: r.id, type: MessageType[m.type], from: m.from, term: r.term, msgTerm: m.term });
    r.send({ to: m.from, term: r.term, type: resp, reject: true });
  }
}

/** Wire a Raft's dispatcher (tick() steps local messages through it). */
export function newRaftStepper(r: Raft): (m: Message) => void {
  const f = (m: Message): void => step(r, m);
  r.handle = f;
  return f;
}
