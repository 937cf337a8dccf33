/*
 * etcd 3.4's "message" stream framing (rafthttp's messageEncoder/messageDecoder), used on
 * GET /raft/stream/message/<id> responses and for the message that opens a POST /raft/snapshot:
 * each message is an 8-byte big-endian length, then that many bytes of raftpb.Message.
 *
 * Worked example: the link heartbeat (MsgHeartbeat, every other field zero), 30 bytes of message:
 *   00 00 00 00 00 00 00 1e                             length 30
 *   08 08 10 00 18 00 20 00 28 00 30 00 40 00          type 8, to, from, term, logTerm, index, commit
 *   4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00    empty snapshot, reject, rejectHint
 *
 * A frame longer than the limit (etcd: 512 MiB on streams) is refused with etcd's error before any
 * of it is buffered. The decoder is incremental: it takes the stream in whatever chunks arrive.
 */
import { writeU64BE } from '../pkg/bytes.js';
import { decodeMessage, encodeMessageTo, messageSize } from '../raft/raftpb.js';
import { MessageType, type Message } from '../raft/types.js';
import { ByteQueue } from './byte-queue.js';

/** etcd's readBytesLimit: the largest frame a stream decoder accepts. */
export const READ_BYTES_LIMIT = 512 * 1024 * 1024;

/** etcd's ErrExceedSizeLimit: a frame's length is over the decoder's limit. */
export class ErrExceedSizeLimit extends Error {
  constructor() {
    super('rafthttp: error limit exceeded');
    this.name = 'ErrExceedSizeLimit';
  }
}

/** Go's io.ErrUnexpectedEOF: the stream ended inside a frame. */
export class ErrUnexpectedEOF extends Error {
  constructor() {
    super('unexpected EOF');
    this.name = 'ErrUnexpectedEOF';
  }
}

/** etcd's linkHeartbeatMessage: what a stream writer sends when it has nothing else (a fresh copy). */
export function linkHeartbeatMessage(): Message {
  return {
    type: MessageType.MsgHeartbeat, to: 0n, from: 0n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0,
    snapshot: undefined, reject: false, rejectHint: 0, context: undefined,
  };
}

/** etcd's isLinkHeartbeatMessage: a MsgHeartbeat from and to nobody keeps the link alive; raft never sees it. */
export function isLinkHeartbeatMessage(m: Message): boolean {
  return m.type === MessageType.MsgHeartbeat && m.from === 0n && m.to === 0n;
}

/** The frames of ms, one after another, in one buffer (one socket write). */
export function encodeMessageFrames(ms: readonly Message[]): Uint8Array {
  const sizes = ms.map(messageSize);
  const buf = new Uint8Array(sizes.reduce((n, s) => n + 8 + s, 0));
  let off = 0;
  ms.forEach((m, i) => {
    writeU64BE(buf, off, sizes[i]!);
    off = encodeMessageTo(m, buf, off + 8);
  });
  return buf;
}

export function encodeMessageFrame(m: Message): Uint8Array {
  return encodeMessageFrames([m]);
}

/**
 * Decodes a message stream fed in arbitrary chunks: push(chunk) hands each complete message to
 * onMessage in order, keeps a partial frame for the next chunk, and throws on a frame over the
 * limit (ErrExceedSizeLimit) or malformed message bytes (RangeError), after delivering the
 * messages before it. After an error every call throws it again: the stream is unusable.
 * Decoded byte fields are views into the received chunks.
 */
export class MessageDecoder {
  private readonly q = new ByteQueue();
  private error: unknown;

  constructor(
    private readonly onMessage: (m: Message) => void = () => {},
    private readonly limit = READ_BYTES_LIMIT,
  ) {}

  /** Bytes received and not yet decoded (less than one frame after push returns). */
  get buffered(): number {
    return this.q.length;
  }

  push(chunk: Uint8Array): void {
    this.append(chunk);
    for (let m = this.next(); m; m = this.next()) this.onMessage(m);
  }

  /** Buffers chunk without decoding (use next() to take messages one at a time). */
  append(chunk: Uint8Array): void {
    if (this.error !== undefined) throw this.error;
    this.q.push(chunk);
  }

  /** The next complete message in the buffer, or undefined until more bytes arrive. */
  next(): Message | undefined {
    if (this.error !== undefined) throw this.error;
    if (this.q.length < 8) return undefined;
    const size = this.q.peekU64(0);
    if (size > this.limit) this.fail(new ErrExceedSizeLimit());
    if (this.q.length < 8 + size) return undefined;
    this.q.skip(8);
    try {
      return decodeMessage(this.q.take(size));
    } catch (e) {
      return this.fail(e);
    }
  }

  /** The stream ended: throws ErrUnexpectedEOF if it stopped inside a frame. */
  end(): void {
    if (this.error !== undefined) throw this.error;
    if (this.q.length > 0) this.fail(new ErrUnexpectedEOF());
  }

  /** Removes and returns the bytes not decoded (after a snapshot's message: the database). */
  drain(): Uint8Array[] {
    return this.q.drain();
  }

  private fail(e: unknown): never {
    this.error = e;
    throw e;
  }
}
