/*
 * Fewer messages for the same conversation, applied to a Ready's messages (RawNode.ready).
 *
 * A leader sends an append to every follower for each proposal it steps (its own batches, and each
 * MsgProp a follower forwards) and for each acknowledgement that moves the commit index, so one Ready
 * can hold several MsgApps to the same follower that continue one another; the follower then answers
 * each with its own MsgAppResp. Each message costs an encode, a stream frame, a decode, a raft step and
 * an answer, about the same for one entry as for many. So:
 *
 * - MsgApps to one peer, in one term, where the next one continues the previous (its index is the
 *   previous one's last entry, its logTerm that entry's term) become one MsgApp with every entry and
 *   the later commit index, while the entries stay under maxBytes. The follower does what it did for
 *   the two (append, then commit up to min(commit, last new index)). In flow control the leader
 *   counted each of them in flight; the one answer, for the last index, frees them all (freeLE).
 * - Accepting MsgAppResps to one peer in one term keep only the highest index (not across a
 *   rejection): in one term a follower's log up to an acknowledged index is the leader's, so the
 *   highest says all the others do; dropping the lower ones is a message loss raft already tolerates.
 *
 * Both are plain etcd 3.4 messages on the wire; every other message passes unchanged, in order.
 */
import { MessageType, type Message, type NodeId } from './types.js';

/** The messages of one Ready with continuing appends merged and superseded acknowledgements left out. */
export function coalesceMessages(msgs: Message[], maxBytes: number): Message[] {
  if (msgs.length < 2) return msgs;
  let out: Message[] | undefined; // made on the first merge: most Readies have nothing to merge
  // per peer: the position (in out, or in msgs before out exists) of its last MsgApp / MsgAppResp
  const lastApp = new Map<NodeId, number>();
  const lastResp = new Map<NodeId, number>();
  const appBytes = new Map<NodeId, number>();
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    const list = out ?? msgs;
    if (m.type === MessageType.MsgApp) {
      const j = lastApp.get(m.to);
      const bytes = entryBytes(m);
      if (j !== undefined) {
        const prev = list[j]!;
        const prevLast = prev.entries.length > 0 ? prev.entries[prev.entries.length - 1]! : undefined;
        const total = appBytes.get(m.to)! + bytes;
        if (prev.term === m.term && m.index === (prevLast ? prevLast.index : prev.index) && m.logTerm === (prevLast ? prevLast.term : prev.logTerm) && total <= maxBytes) {
          out ??= msgs.slice(0, i);
          out[j] = { ...prev, entries: m.entries.length === 0 ? prev.entries : prev.entries.concat(m.entries), commit: Math.max(prev.commit, m.commit) };
          appBytes.set(m.to, total);
          continue;
        }
      }
      lastApp.set(m.to, out ? out.length : i);
      appBytes.set(m.to, bytes);
    } else if (m.type === MessageType.MsgAppResp) {
      if (m.reject) lastResp.delete(m.to);
      else {
        const j = lastResp.get(m.to);
        if (j !== undefined && list[j]!.term === m.term) {
          out ??= msgs.slice(0, i);
          if (m.index > out[j]!.index) out[j] = m;
          continue;
        }
        lastResp.set(m.to, out ? out.length : i);
      }
    }
    if (out) out.push(m);
  }
  return out ?? msgs;
}

function entryBytes(m: Message): number {
  let n = 0;
  for (const e of m.entries) n += e.data.length;
  return n;
}
