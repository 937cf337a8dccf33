// Readable one-line descriptions of raft messages for the event trace.
import { type Message, MessageType } from '../../src/raft/index.js';

export function describeMessage(m: Message): string {
  let s = `n${m.from} -> n${m.to} ${MessageType[m.type]} term=${m.term}`;
  switch (m.type) {
    case MessageType.MsgApp:
      s += ` index=${m.index} logTerm=${m.logTerm} entries=${m.entries.length > 0 ? `[${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}]` : '[]'} commit=${m.commit}`;
      break;
    case MessageType.MsgAppResp:
      s += ` index=${m.index}${m.reject ? ` reject hint=${m.rejectHint} hintTerm=${m.logTerm}` : ''}`;
      break;
    case MessageType.MsgVote:
    case MessageType.MsgPreVote:
      s += ` lastIndex=${m.index} lastTerm=${m.logTerm}`;
      break;
    case MessageType.MsgVoteResp:
    case MessageType.MsgPreVoteResp:
      s += m.reject ? ' reject' : ' granted';
      break;
    case MessageType.MsgHeartbeat:
      s += ` commit=${m.commit}`;
      break;
    case MessageType.MsgSnap:
      s += ` snapshot index=${m.snapshot?.metadata.index} term=${m.snapshot?.metadata.term}`;
      break;
    case MessageType.MsgReadIndexResp:
      s += ` index=${m.index}`;
      break;
  }
  return s;
}
