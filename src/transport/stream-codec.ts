// The two stream encodings behind one interface: "message" (every message type, length-prefixed
// raftpb) and "msgapp" (etcd's msgappv2: MsgApps only, with the running index and term elided).
import { decodeMessage } from '../raft/raftpb.js';
import { encodeMessageFrame, encodeMessageFrames, isLinkHeartbeatMessage, linkHeartbeatMessage, MessageDecoder } from './msg-codec.js';
import { MsgAppV2Decoder, MsgAppV2Encoder } from './msgappv2-codec.js';
import type { Message, NodeId } from '../raft/types.js';

export type StreamType = 'message' | 'msgapp';

export const STREAM_TYPES: readonly StreamType[] = ['msgapp', 'message'];

export interface StreamEncoder {
  /** The frames of these messages, in order, as one buffer. */
  encode(messages: readonly Message[]): Uint8Array;
  /** A link heartbeat frame. */
  heartbeat(): Uint8Array;
}

export interface StreamDecoder {
  /** Feeds a chunk of the stream; returns the messages it completed (link heartbeats left out). Throws on malformed bytes. */
  push(chunk: Uint8Array): Message[];
}

export function newStreamEncoder(type: StreamType): StreamEncoder {
  if (type === 'message') return { encode: (ms) => encodeMessageFrames(ms), heartbeat: () => encodeMessageFrames([linkHeartbeatMessage()]) };
  const enc = new MsgAppV2Encoder();
  return {
    encode: (ms) => {
      if (ms.length === 1) return enc.encode(ms[0]!);
      const parts = ms.map((m) => enc.encode(m));
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    },
    heartbeat: () => enc.encode(linkHeartbeatMessage()),
  };
}

export function newStreamDecoder(type: StreamType, local: NodeId, remote: NodeId): StreamDecoder {
  let out: Message[] = [];
  const collect = (m: Message): void => {
    if (!isLinkHeartbeatMessage(m)) out.push(m);
  };
  const dec = type === 'message' ? new MessageDecoder(collect) : new MsgAppV2Decoder(local, remote, collect);
  return {
    push: (chunk) => {
      out = [];
      dec.push(chunk);
      return out;
    },
  };
}

/** One "message" stream frame: the 8-byte big-endian length, then the raftpb.Message. */
export function frameMessage(m: Message): Uint8Array {
  return encodeMessageFrame(m);
}

/** Reads the framed MsgSnap at the head of a snapshot POST; the rest of the body is the database. */
export async function readSnapshotFrame(body: AsyncIterable<Uint8Array>): Promise<{ message: Message; rest: AsyncIterable<Uint8Array> }> {
  const it = body[Symbol.asyncIterator]();
  let buf = new Uint8Array(0);
  const need = async (n: number): Promise<void> => {
    while (buf.length < n) {
      const r = await it.next();
      if (r.done) throw new Error('unexpected EOF');
      const next = new Uint8Array(buf.length + r.value.length);
      next.set(buf);
      next.set(r.value, buf.length);
      buf = next;
    }
  };
  await need(8);
  const len = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0));
  if (len > SNAPSHOT_MESSAGE_MAX) throw new Error(`raft message too large (${len} bytes)`);
  await need(8 + len);
  const message = decodeMessage(buf.subarray(8, 8 + len));
  const head = buf.subarray(8 + len);
  async function* rest(): AsyncIterable<Uint8Array> {
    if (head.length > 0) yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { message, rest: rest() };
}

/** The largest MsgSnap we take (its data is the v2 store; the database follows it). */
const SNAPSHOT_MESSAGE_MAX = 512 * 1024 * 1024;
