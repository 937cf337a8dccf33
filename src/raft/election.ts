// Starting elections: hup (checks whether we may), campaign (pre-vote or vote round).
import { type CampaignType, campaignTransferCtx, type Raft, StateType } from './raft.js';
import { VoteResult } from './quorum.js';
import { EntryType, MessageType } from './types.js';
import { noLimit, voteRespMsgType } from './util.js';

export function hup(r: Raft, t: CampaignType): void {
  if (r.state === StateType.StateLeader) {
    r.logger.debug('ignoring MsgHup because already leader', { id: r.id });
    return;
  }
  if (!r.promotable()) {
    r.logger.warn('is unpromotable and can not campaign', { id: r.id });
    return;
  }
  // A conf change committed but not applied could change who may vote: wait until it is applied.
  if (r.raftLog.committed > r.raftLog.applied) {
    const ents = r.raftLog.slice(r.raftLog.applied + 1, r.raftLog.committed + 1, noLimit);
    if (ents.some((e) => e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2)) {
      r.logger.warn('cannot campaign: pending configuration changes to apply', { id: r.id, term: r.term });
      return;
    }
  }
  r.logger.info('starting a new election', { id: r.id, term: r.term });
  campaign(r, t);
}

export function campaign(r: Raft, t: CampaignType): void {
  if (!r.promotable()) {
    r.logger.warn('is unpromotable; campaign() should have been called', { id: r.id });
    return;
  }
  let voteMsg: MessageType;
  let term: number;
  if (t === 'CampaignPreElection') {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    term = r.term + 1; // the term we would campaign in; ours stays until the pre-vote is won
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  if (r.poll(r.id, voteRespMsgType(voteMsg), true) === VoteResult.VoteWon) {
    // A single-voter cluster wins at once.
    if (t === 'CampaignPreElection') campaign(r, 'CampaignElection');
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.prs.voterNodes()) {
    if (id === r.id) continue;
    r.logger.info('sent vote request', { id: r.id, to: id, type: MessageType[voteMsg], term: r.term, lastIndex, lastTerm });
    const context = t === 'CampaignTransfer' ? campaignTransferCtx : undefined;
    r.send({ term, to: id, type: voteMsg, index: lastIndex, logTerm: lastTerm, context });
  }
}
