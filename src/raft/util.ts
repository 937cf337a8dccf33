// Small helpers shared inside raft/: message construction, entry sizes, id ordering, logger.
import { type Entry, type Message, type MessageType, type NodeId, None } from './types.js';
import { MessageType as MT } from './types.js';

export interface RaftLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};
export const discardLogger: RaftLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** No byte limit on a slice of the log. */
export const noLimit = Number.POSITIVE_INFINITY;

export type MessageInit = Partial<Message> & { type: MessageType };

export function newMessage(p: MessageInit): Message {
  return {
    type: p.type,
    to: p.to ?? None,
    from: p.from ?? None,
    term: p.term ?? 0,
    logTerm: p.logTerm ?? 0,
    index: p.index ?? 0,
    entries: p.entries ?? [],
    commit: p.commit ?? 0,
    snapshot: p.snapshot,
    reject: p.reject ?? false,
    rejectHint: p.rejectHint ?? 0,
    context: p.context,
  };
}

/** Approximate encoded size of an entry (payload plus a fixed header), as etcd's Entry.Size(). */
export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

/** Sum of payload bytes only (for the uncommitted-size limit, as etcd's payloadsSize). */
export function payloadsSize(ents: Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.length;
  return s;
}

/** Keep a prefix of ents within maxSize bytes; always at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0 || maxSize === noLimit) return ents;
  let size = entrySize(ents[0]!);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit]!);
    if (size > maxSize) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

export function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedIds(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort(compareIds);
}

export function isLocalMsg(t: MessageType): boolean {
  return t === MT.MsgHup || t === MT.MsgBeat || t === MT.MsgUnreachable || t === MT.MsgSnapStatus || t === MT.MsgCheckQuorum;
}

export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MT.MsgAppResp || t === MT.MsgVoteResp || t === MT.MsgHeartbeatResp || t === MT.MsgUnreachable || t === MT.MsgPreVoteResp
  );
}

export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MT.MsgVote) return MT.MsgVoteResp;
  if (t === MT.MsgPreVote) return MT.MsgPreVoteResp;
  throw new Error(`not a vote message: ${MT[t]}`);
}

export function ctxKey(ctx: Uint8Array | undefined): string {
  if (!ctx) return '';
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}
