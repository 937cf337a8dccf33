/*
 * etcd 3.4's msgappv2 stream encoding (GET /raft/stream/msgapp/<id>): the leader's MsgApps to one
 * follower, made small by leaving out what the follower can predict. Encoder and decoder each keep
 * (term, index): the term of the last full MsgApp and the index of the last entry sent.
 *
 *   link heartbeat  00
 *   AppEntries      01, count (u64 BE), per entry: size (u64 BE) + raftpb.Entry, commit (u64 BE)
 *                   sent when m.index == index and m.logTerm == term == m.term (the MsgApp continues
 *                   the previous one in the same term); the decoder rebuilds MsgApp{from: remote,
 *                   to: local, term, logTerm: term, index} and adds 1 to index per entry.
 *   App             02, size (u64 BE) + raftpb.Message: anything else; sets term = m.term and
 *                   index = m.index, or the index of its last entry.
 *
 * Worked example: after an App at term 2 whose last entry is 7, MsgApp{term 2, logTerm 2, index 7,
 * entries [{term 2, index 8, data ""}], commit 7} is
 *   01  00 00 00 00 00 00 00 01  00 00 00 00 00 00 00 06  08 00 10 02 18 08  00 00 00 00 00 00 00 07
 *
 * The decoder is incremental (chunks of any size) and bounded: a frame over the limit throws
 * ErrExceedSizeLimit (etcd itself has no limit here; ours is its message stream's 512 MiB).
 */
import { decodeEntry, decodeMessage, encodeEntryTo, encodeMessageTo, entrySize, messageSize } from '../raft/raftpb.js';
import { MessageType, type Entry, type Message, type NodeId } from '../raft/types.js';
import { ByteQueue } from './byte-queue.js';
import {
  ErrExceedSizeLimit, ErrUnexpectedEOF, isLinkHeartbeatMessage, linkHeartbeatMessage, READ_BYTES_LIMIT,
} from './msg-codec.js';
import { writeU64BE } from '../pkg/bytes.js';

export const MSG_TYPE_LINK_HEARTBEAT = 0;
export const MSG_TYPE_APP_ENTRIES = 1;
export const MSG_TYPE_APP = 2;

/** Encodes one follower's MsgApp stream; one encoder per connection (its state is the stream's). */
export class MsgAppV2Encoder {
  term = 0;
  index = 0;

  /** The bytes for m, in one buffer. */
  encode(m: Message): Uint8Array {
    if (isLinkHeartbeatMessage(m)) return Uint8Array.of(MSG_TYPE_LINK_HEARTBEAT);
    if (this.index === m.index && this.term === m.logTerm && m.logTerm === m.term) return this.appEntries(m);
    const size = messageSize(m);
    const buf = new Uint8Array(9 + size);
    buf[0] = MSG_TYPE_APP;
    writeU64BE(buf, 1, size);
    encodeMessageTo(m, buf, 9);
    this.term = m.term;
    this.index = m.entries.length > 0 ? m.entries[m.entries.length - 1]!.index : m.index;
    return buf;
  }

  private appEntries(m: Message): Uint8Array {
    const sizes = m.entries.map(entrySize);
    const buf = new Uint8Array(sizes.reduce((n, s) => n + 8 + s, 17));
    buf[0] = MSG_TYPE_APP_ENTRIES;
    writeU64BE(buf, 1, m.entries.length);
    let off = 9;
    m.entries.forEach((e, i) => {
      writeU64BE(buf, off, sizes[i]!);
      off = encodeEntryTo(e, buf, off + 8);
    });
    writeU64BE(buf, off, m.commit);
    this.index += m.entries.length;
    return buf;
  }
}

const enum Want {
  Type,
  Count,
  EntrySize,
  Entry,
  Commit,
  AppSize,
  App,
}

/**
 * Decodes the msgappv2 stream from `remote` to `local`: push(chunk) hands each complete message to
 * onMessage (link heartbeats included: the caller drops them) and keeps a partial one for the next
 * chunk. Errors (an unknown type byte, a frame over the limit, malformed protobuf) are thrown after
 * the messages before them were delivered, and again on every later call.
 */
export class MsgAppV2Decoder {
  term = 0;
  index = 0;
  private readonly q = new ByteQueue();
  private want = Want.Type;
  private need = 1; // bytes the current step needs
  private left = 0; // AppEntries: entries still to read
  private frameBytes = 0; // AppEntries: bytes of the frame so far
  private pending: Message | undefined;
  private error: unknown;

  constructor(
    private readonly local: NodeId,
    private readonly remote: NodeId,
    private readonly onMessage: (m: Message) => void = () => {},
    private readonly limit = READ_BYTES_LIMIT,
  ) {}

  get buffered(): number {
    return this.q.length;
  }

  push(chunk: Uint8Array): void {
    if (this.error !== undefined) throw this.error;
    this.q.push(chunk);
    try {
      while (this.q.length >= this.need) {
        const m = this.step();
        if (m) this.onMessage(m);
      }
    } catch (e) {
      this.error ??= e;
      throw e;
    }
  }

  /** The stream ended: throws ErrUnexpectedEOF if it stopped inside a message. */
  end(): void {
    if (this.error !== undefined) throw this.error;
    if (this.q.length > 0 || this.want !== Want.Type) {
      this.error = new ErrUnexpectedEOF();
      throw this.error;
    }
  }

  /** Consumes `need` buffered bytes; returns a message when one is complete. */
  private step(): Message | undefined {
    switch (this.want) {
      case Want.Type: return this.readType();
      case Want.Count: {
        this.left = this.takeU64();
        this.frameBytes = 17;
        return this.nextEntryOrCommit();
      }
      case Want.EntrySize: {
        const size = this.takeU64();
        this.grow(8 + size);
        return this.expect(Want.Entry, size);
      }
      case Want.Entry: {
        const e = decodeEntry(this.q.take(this.need));
        this.index++;
        this.pending!.entries.push(e);
        this.left--;
        return this.nextEntryOrCommit();
      }
      case Want.Commit: {
        const m = this.pending!;
        m.commit = this.takeU64();
        this.pending = undefined;
        return this.expect(Want.Type, 1, m);
      }
      case Want.AppSize: {
        const size = this.takeU64();
        if (size > this.limit) throw new ErrExceedSizeLimit();
        return this.expect(Want.App, size);
      }
      case Want.App: return this.readApp();
    }
  }

  private readType(): Message | undefined {
    const typ = this.q.take(1)[0]!;
    switch (typ) {
      case MSG_TYPE_LINK_HEARTBEAT: return linkHeartbeatMessage();
      case MSG_TYPE_APP_ENTRIES:
        this.pending = {
          type: MessageType.MsgApp, to: this.local, from: this.remote, term: this.term, logTerm: this.term,
          index: this.index, entries: [] as Entry[], commit: 0, snapshot: undefined, reject: false, rejectHint: 0,
          context: undefined,
        };
        return this.expect(Want.Count, 8);
      case MSG_TYPE_APP: return this.expect(Want.AppSize, 8);
      default: throw new Error(`failed to parse type ${typ} in msgappv2 stream`);
    }
  }

  private readApp(): Message {
    const m = this.q.take(this.need);
    this.expect(Want.Type, 1);
    const msg = decodeMessage(m);
    this.term = msg.term;
    this.index = msg.entries.length > 0 ? msg.entries[msg.entries.length - 1]!.index : msg.index;
    return msg;
  }

  private nextEntryOrCommit(): undefined {
    if (this.left > 0) return this.expect(Want.EntrySize, 8);
    this.grow(0);
    return this.expect(Want.Commit, 8);
  }

  /** Counts bytes of the AppEntries frame against the limit. */
  private grow(n: number): void {
    this.frameBytes += n;
    if (this.frameBytes > this.limit) throw new ErrExceedSizeLimit();
  }

  private expect<T>(want: Want, need: number, ret?: T): T | undefined {
    this.want = want;
    this.need = need;
    return ret;
  }

  private takeU64(): number {
    const v = this.q.peekU64(0);
    this.q.skip(8);
    return v;
  }
}
