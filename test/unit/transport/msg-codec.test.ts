// etcd's message stream framing: etcd 3.4.23's own streams decode and re-encode identically, any
// chunking of a stream gives the same messages, and oversized, malformed or cut-off frames fail
// with etcd's errors.
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/raft/raftpb.js';
import { EntryType, MessageType, type Message } from '../../../src/raft/types.js';
import {
  ErrExceedSizeLimit, ErrUnexpectedEOF, MessageDecoder, READ_BYTES_LIMIT, encodeMessageFrame, encodeMessageFrames,
  isLinkHeartbeatMessage, linkHeartbeatMessage,
} from '../../../src/transport/msg-codec.js';
import { streams } from '../../fixtures/etcd-peer/read.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cat = (...bs: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(bs));

function msg(p: Partial<Message> & { type: MessageType }): Message {
  return { to: 0n, from: 0n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: undefined, reject: false, rejectHint: 0, context: undefined, ...p };
}

/** Decodes chunks in order with a fresh decoder; returns the messages and the decoder. */
function decodeChunks(chunks: Uint8Array[], limit?: number): { ms: Message[]; dec: MessageDecoder } {
  const ms: Message[] = [];
  const dec = new MessageDecoder((m) => ms.push(m), limit);
  for (const c of chunks) dec.push(c);
  return { ms, dec };
}

const sample: Message[] = [
  linkHeartbeatMessage(),
  msg({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 3, commit: 9, context: Uint8Array.of(1, 2) }),
  msg({ type: MessageType.MsgApp, to: 2n, from: 1n, term: 3, logTerm: 3, index: 9, commit: 9, entries: [
    { type: EntryType.EntryNormal, term: 3, index: 10, data: new Uint8Array(300).fill(7) },
    { type: EntryType.EntryConfChange, term: 3, index: 11, data: Uint8Array.of(8, 0) },
  ] }),
  msg({ type: MessageType.MsgAppResp, to: 1n, from: 2n, term: 3, index: 11, reject: true, rejectHint: 5 }),
];
const sampleStream = encodeMessageFrames(sample);

describe('message stream: etcd 3.4.23 traffic (test/fixtures/etcd-peer)', () => {
  const all = streams('message');

  it('decodes every stream to its end, every message from the writer to the reader, and re-encodes it byte for byte', () => {
    expect(all.length).toBeGreaterThan(3);
    const types = new Set<string>();
    let linkHeartbeats = 0;
    for (const s of all) {
      const { ms, dec } = decodeChunks([s.body]);
      expect(dec.buffered).toBe(0);
      expect(ms.length).toBeGreaterThan(0);
      for (const m of ms) {
        if (isLinkHeartbeatMessage(m)) linkHeartbeats++;
        else expect([m.from, m.to]).toEqual([s.writer, s.reader]);
        types.add(MessageType[m.type]!);
      }
      expect(hex(encodeMessageFrames(ms))).toBe(hex(s.body));
    }
    expect(linkHeartbeats).toBeGreaterThan(0);
    for (const t of ['MsgHeartbeat', 'MsgHeartbeatResp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgReadIndex', 'MsgProp']) expect(types).toContain(t);
  });

  it('etcd’s link heartbeat frame is the one we write', () => {
    const frames = all.flatMap((s) => decodeChunks([s.body]).ms).filter(isLinkHeartbeatMessage);
    expect(frames[0]).toEqual(linkHeartbeatMessage());
    expect(hex(encodeMessageFrame(linkHeartbeatMessage()))).toBe('000000000000001e' + '080810001800200028003000400' + '04a0a12080a0228001000180050005800');
  });

  it('every split point of a real stream gives the same messages', () => {
    const body = all.reduce((a, b) => (b.body.length > a.body.length ? b : a)).body.subarray(0, 1500);
    const whole = decodeChunks([body]).ms;
    for (let i = 0; i <= body.length; i++) expect(decodeChunks([body.subarray(0, i), body.subarray(i)]).ms).toEqual(whole);
  });
});

describe('message stream: framing', () => {
  it('a frame is the 8-byte big-endian length of the message, then the message', () => {
    const m = sample[2]!;
    const f = encodeMessageFrame(m);
    expect(Buffer.from(f).readBigUInt64BE(0)).toBe(BigInt(encodeMessage(m).length));
    expect(hex(f.subarray(8))).toBe(hex(encodeMessage(m)));
  });

  it('isLinkHeartbeatMessage: a MsgHeartbeat from and to nobody, whatever else it carries', () => {
    expect(isLinkHeartbeatMessage(linkHeartbeatMessage())).toBe(true);
    expect(isLinkHeartbeatMessage(msg({ type: MessageType.MsgHeartbeat, term: 5, commit: 3 }))).toBe(true);
    expect(isLinkHeartbeatMessage(msg({ type: MessageType.MsgHeartbeat, to: 1n }))).toBe(false);
    expect(isLinkHeartbeatMessage(msg({ type: MessageType.MsgHeartbeat, from: 1n }))).toBe(false);
    expect(isLinkHeartbeatMessage(msg({ type: MessageType.MsgHup }))).toBe(false);
    expect(linkHeartbeatMessage()).not.toBe(linkHeartbeatMessage());
  });

  it('every split point, one byte at a time, and three-way splits give the same messages', () => {
    expect(decodeChunks([sampleStream]).ms).toEqual(sample);
    for (let i = 0; i <= sampleStream.length; i++) {
      expect(decodeChunks([sampleStream.subarray(0, i), sampleStream.subarray(i)]).ms).toEqual(sample);
      const j = Math.floor((i + sampleStream.length) / 2);
      expect(decodeChunks([sampleStream.subarray(0, i), sampleStream.subarray(i, j), sampleStream.subarray(j)]).ms).toEqual(sample);
    }
    const bytes = Array.from(sampleStream, (b) => Uint8Array.of(b));
    const { ms, dec } = decodeChunks(bytes);
    expect(ms).toEqual(sample);
    expect(dec.buffered).toBe(0);
    dec.end();
  });

  it('keeps less than one frame between pushes and delivers each message as soon as it is complete', () => {
    const ms: Message[] = [];
    const dec = new MessageDecoder((m) => ms.push(m));
    const first = encodeMessageFrame(sample[1]!).length;
    dec.push(sampleStream.subarray(0, 38 + first - 1));
    expect(ms.length).toBe(1);
    expect(dec.buffered).toBe(first - 1);
    dec.push(sampleStream.subarray(38 + first - 1, 38 + first));
    expect(ms.length).toBe(2);
    expect(dec.buffered).toBe(0);
  });

  it('next() and drain(): a snapshot request is one message, then the database bytes', () => {
    const db = Uint8Array.from({ length: 100 }, (_, i) => i);
    const body = cat(encodeMessageFrame(msg({ type: MessageType.MsgSnap, from: 1n, to: 2n })), db);
    const dec = new MessageDecoder();
    dec.append(body.subarray(0, 20));
    expect(dec.next()).toBeUndefined();
    dec.append(body.subarray(20, 70));
    expect(dec.next()?.type).toBe(MessageType.MsgSnap);
    expect(hex(cat(...dec.drain()))).toBe(hex(db.subarray(0, 70 - 38)));
    expect(dec.buffered).toBe(0);
  });
});

describe('message stream: errors', () => {
  it('a frame over the limit fails with etcd’s error as soon as its length is read', () => {
    expect(READ_BYTES_LIMIT).toBe(512 * 1024 * 1024);
    const header = Uint8Array.of(0, 0, 0, 0, 0x20, 0, 0, 1); // 512 MiB + 1
    const dec = new MessageDecoder();
    expect(() => dec.push(header)).toThrow(ErrExceedSizeLimit);
    expect(() => dec.push(header)).toThrow('rafthttp: error limit exceeded');
    expect(() => decodeChunks([Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)])).toThrow(ErrExceedSizeLimit);
  });

  it('with a smaller limit: a frame of exactly the limit passes, one byte more fails', () => {
    const f = encodeMessageFrame(sample[1]!);
    expect(decodeChunks([f], f.length - 8).ms).toEqual([sample[1]]);
    expect(() => decodeChunks([f], f.length - 9)).toThrow(ErrExceedSizeLimit);
  });

  it('malformed message bytes throw RangeError after the messages before them, then every call throws', () => {
    const bad = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2, 0x08, 0x80);
    const ms: Message[] = [];
    const dec = new MessageDecoder((m) => ms.push(m));
    expect(() => dec.push(cat(encodeMessageFrame(sample[1]!), bad))).toThrow(RangeError);
    expect(ms).toEqual([sample[1]]);
    expect(() => dec.push(encodeMessageFrame(sample[1]!))).toThrow(RangeError);
    expect(() => dec.end()).toThrow(RangeError);
  });

  it('end() inside a frame (or its header) is Go’s unexpected EOF; at a frame boundary it is clean', () => {
    expect(() => decodeChunks([sampleStream.subarray(0, 5)]).dec.end()).toThrow(ErrUnexpectedEOF);
    expect(() => decodeChunks([sampleStream.subarray(0, 50)]).dec.end()).toThrow('unexpected EOF');
    expect(() => decodeChunks([sampleStream]).dec.end()).not.toThrow();
    expect(() => new MessageDecoder().end()).not.toThrow();
  });

  it('random garbage never hangs and fails only with the decoder’s errors', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => (rnd() < 0.5 ? 0 : Math.floor(rnd() * 256)));
      try {
        decodeChunks([junk, sampleStream]);
      } catch (e) {
        expect(e instanceof RangeError || e instanceof ErrExceedSizeLimit).toBe(true);
      }
    }
  });
});
