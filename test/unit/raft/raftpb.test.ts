// raftpb codec: etcd 3.4.23's own WAL and peer bytes decode and re-encode identically; hand-checked
// bytes from raft.pb.go's MarshalTo; random round trips; any valid protobuf accepted; malformed
// bytes throw RangeError and nothing else.
import { describe, expect, it } from 'vitest';
import {
  PRESENT_EMPTY, decodeConfState, decodeEntry, decodeHardState, decodeMessage, decodeSnapshot, encodeConfState,
  encodeEntry, encodeEntryTo, encodeHardState, encodeMessage, encodeMessageTo, encodeSnapshot, entrySize, messageSize,
} from '../../../src/raft/raftpb.js';
import { EntryType, MessageType, type ConfState, type Entry, type Message, type Snapshot } from '../../../src/raft/types.js';
import { exchanges, walRecords } from '../../fixtures/etcd-peer/read.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const MAX_ID = 0xffff_ffff_ffff_ffffn;

function msg(p: Partial<Message> & { type: MessageType }): Message {
  return { to: 0n, from: 0n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: undefined, reject: false, rejectHint: 0, context: undefined, ...p };
}
const confState = (p: Partial<ConfState> = {}): ConfState => ({ voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...p });

/** mulberry32: a seeded PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('raftpb: etcd 3.4.23 bytes (test/fixtures/etcd-peer)', () => {
  const records = walRecords();

  it('every entry and hard state in etcd’s WAL decodes and re-encodes to the same bytes', () => {
    const entries = records.filter((r) => r.type === 2);
    const states = records.filter((r) => r.type === 3);
    expect(entries.length).toBeGreaterThan(30);
    expect(states.length).toBeGreaterThan(10);
    for (const r of entries) expect(hex(encodeEntry(decodeEntry(r.data)))).toBe(hex(r.data));
    for (const r of states) expect(hex(encodeHardState(decodeHardState(r.data)))).toBe(hex(r.data));
  });

  it('reads what etcd wrote: three conf changes at term 1, then the leader’s empty entry, then requests', () => {
    const entries = records.filter((r) => r.type === 2).map((r) => decodeEntry(r.data));
    expect(entries.slice(0, 3).map((e) => [e.term, e.index, e.type])).toEqual([[1, 1, 1], [1, 2, 1], [1, 3, 1]]);
    const empty = entries.find((e) => e.term === 2)!;
    expect(empty.data.length).toBe(0);
    expect(empty.data).not.toBe(PRESENT_EMPTY); // nil in etcd: no field 4
    expect(entries.every((e, i) => i === 0 || e.index <= entries[i - 1]!.index + 1)).toBe(true);
    const hs = decodeHardState(records.filter((r) => r.type === 3).at(-1)!.data);
    expect(hs.vote).toBeGreaterThan(0xffffffffn); // a 64-bit member id
    expect(hs.commit).toBeGreaterThan(30);
  });

  it('every pipeline message (POST /raft) decodes and re-encodes to the same bytes', () => {
    const posts = exchanges().filter((e) => e.method === 'POST' && e.path === '/raft');
    expect(posts.length).toBeGreaterThan(3);
    for (const e of posts) {
      const m = decodeMessage(e.requestBody);
      expect(m.from).toBe(BigInt(`0x${e.from}`));
      expect(m.snapshot).toBeUndefined();
      expect(messageSize(m)).toBe(e.requestBody.length);
      expect(hex(encodeMessage(m))).toBe(hex(e.requestBody));
    }
  });
});

describe('raftpb: bytes as raft.pb.go’s MarshalTo writes them', () => {
  it('Entry: type, term, index always; data only when non-nil', () => {
    expect(hex(encodeEntry({ type: EntryType.EntryNormal, term: 2, index: 5, data: new TextEncoder().encode('hi') }))).toBe('08001002180522026869');
    expect(hex(encodeEntry({ type: EntryType.EntryNormal, term: 0, index: 0, data: new Uint8Array(0) }))).toBe('080010001800');
    expect(hex(encodeEntry({ type: EntryType.EntryConfChange, term: 300, index: 1, data: PRESENT_EMPTY }))).toBe('0801' + '10ac02' + '1801' + '2200');
  });

  it('Message with nothing set: every scalar written, the empty snapshot, no context (the link heartbeat)', () => {
    const m = msg({ type: MessageType.MsgHeartbeat });
    expect(hex(encodeMessage(m))).toBe('0808 1000 1800 2000 2800 3000 4000 4a0a 1208 0a02 2800 1000 1800 5000 5800'.replace(/ /g, ''));
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('Message fields in field order, ids as 10-byte varints, entries embedded, context when defined', () => {
    const m = msg({
      type: MessageType.MsgApp, to: MAX_ID, from: 1n, term: 3, logTerm: 2, index: 128, commit: 1, reject: true, rejectHint: 7,
      entries: [{ type: EntryType.EntryNormal, term: 3, index: 129, data: Uint8Array.of(0xaa) }], context: new Uint8Array(0),
    });
    const entry = '0800' + '1003' + '188101' + '2201aa';
    expect(hex(encodeMessage(m))).toBe(
      '0803' + '10ffffffffffffffffff01' + '1801' + '2003' + '2802' + '308001' + '3a0a' + entry + '4001' + '4a0a12080a02280010001800' + '5001' + '5807' + '6200',
    );
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('HardState: all three fields even when zero', () => {
    expect(hex(encodeHardState({ term: 0, vote: 0n, commit: 0 }))).toBe('080010001800');
    expect(hex(encodeHardState({ term: 5, vote: 0x1234n, commit: 9 }))).toBe('0805' + '10b424' + '1809');
  });

  it('ConfState: unpacked repeated ids in field order, autoLeave always', () => {
    const c = confState({ voters: [1n, 2n], learners: [3n], votersOutgoing: [4n], learnersNext: [5n], autoLeave: true });
    expect(hex(encodeConfState(c))).toBe('0801 0802 1003 1804 2005 2801'.replace(/ /g, ''));
    expect(hex(encodeConfState(confState()))).toBe('2800');
  });

  it('Snapshot: data when non-nil, then metadata (confState, index, term); MsgSnap carries it', () => {
    const s: Snapshot = { data: Uint8Array.of(1, 2), metadata: { confState: confState({ voters: [1n] }), index: 10, term: 2 } };
    const body = '0a020102' + '120a' + '0a04' + '08012800' + '100a' + '1802';
    expect(hex(encodeSnapshot(s))).toBe(body);
    expect(decodeSnapshot(bytes(body))).toEqual(s);
    const m = msg({ type: MessageType.MsgSnap, snapshot: s });
    expect(hex(encodeMessage(m))).toContain('4a10' + body);
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });
});

describe('raftpb: nil and empty bytes', () => {
  it('zero-length data is nil (no field); PRESENT_EMPTY is a present empty field, and decodes back to it', () => {
    const e: Entry = { type: EntryType.EntryNormal, term: 1, index: 1, data: PRESENT_EMPTY };
    expect(decodeEntry(encodeEntry(e)).data).toBe(PRESENT_EMPTY);
    const s: Snapshot = { data: PRESENT_EMPTY, metadata: { confState: confState(), index: 1, term: 1 } };
    expect(hex(encodeSnapshot(s)).startsWith('0a00')).toBe(true);
    expect(decodeSnapshot(encodeSnapshot(s)).data).toBe(PRESENT_EMPTY);
  });

  it('context: undefined is absent, an empty array is present; both survive a round trip', () => {
    expect(decodeMessage(encodeMessage(msg({ type: MessageType.MsgHeartbeat }))).context).toBeUndefined();
    expect(decodeMessage(encodeMessage(msg({ type: MessageType.MsgHeartbeat, context: new Uint8Array(0) }))).context).toEqual(new Uint8Array(0));
  });

  it('a snapshot that is not exactly etcd’s empty one is kept (index 0 with data, or a field written differently)', () => {
    const s: Snapshot = { data: Uint8Array.of(9), metadata: { confState: confState(), index: 0, term: 0 } };
    expect(decodeMessage(encodeMessage(msg({ type: MessageType.MsgSnap, snapshot: s }))).snapshot).toEqual(s);
  });
});

describe('raftpb: encodeEntryTo and sizes', () => {
  it('writes at an offset inside a larger buffer and returns the end', () => {
    const e: Entry = { type: EntryType.EntryNormal, term: 7, index: 2 ** 40, data: Uint8Array.of(1, 2, 3) };
    const buf = new Uint8Array(5 + entrySize(e) + 5);
    expect(encodeEntryTo(e, buf, 5)).toBe(5 + entrySize(e));
    expect(decodeEntry(buf.subarray(5, 5 + entrySize(e)))).toEqual(e);
    const m = msg({ type: MessageType.MsgApp, entries: [e, e] });
    const mb = new Uint8Array(messageSize(m) + 3);
    expect(encodeMessageTo(m, mb, 3)).toBe(mb.length);
    expect(decodeMessage(mb.subarray(3))).toEqual(m);
  });

  it('refuses numbers that are not uint64 safe integers and ids outside uint64, with RangeError', () => {
    for (const term of [-1, 1.5, 2 ** 53, Number.NaN]) expect(() => encodeEntry({ type: 0, term, index: 0, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeMessage(msg({ type: MessageType.MsgApp, to: -1n }))).toThrow(RangeError);
    expect(() => encodeMessage(msg({ type: MessageType.MsgApp, from: MAX_ID + 1n }))).toThrow(RangeError);
  });
});

function randomMessage(r: () => number): Message {
  const num = (): number => [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32, 2 ** 53 - 1, Math.floor(r() * 1e6)][Math.floor(r() * 10)]!;
  const id = (): bigint => [0n, 1n, 127n, 128n, MAX_ID, 0x8e9e05c52164694dn, BigInt(Math.floor(r() * 2 ** 32)) << 31n][Math.floor(r() * 7)]!;
  const data = (): Uint8Array => (r() < 0.2 ? PRESENT_EMPTY : Uint8Array.from({ length: Math.floor(r() * (r() < 0.1 ? 300 : 20)) }, () => Math.floor(r() * 256)));
  const ids = (): bigint[] => Array.from({ length: Math.floor(r() * 4) }, id);
  const snapshot = (): Snapshot | undefined => (r() < 0.7 ? undefined : {
    data: data(), metadata: { confState: confState({ voters: ids(), learners: ids(), votersOutgoing: ids(), learnersNext: ids(), autoLeave: r() < 0.5 }), index: num() || 1, term: num() },
  });
  return {
    type: Math.floor(r() * 19) as MessageType, to: id(), from: id(), term: num(), logTerm: num(), index: num(), commit: num(),
    entries: Array.from({ length: Math.floor(r() * 5) }, () => ({ type: Math.floor(r() * 3) as EntryType, term: num(), index: num(), data: data() })),
    snapshot: snapshot(), reject: r() < 0.5, rejectHint: num(), context: r() < 0.5 ? undefined : data().slice(),
  };
}

describe('raftpb: random round trips', () => {
  it('decode(encode(m)) equals m, and messageSize is the encoded length (800 seeded messages)', () => {
    const r = rng(14);
    for (let i = 0; i < 800; i++) {
      const m = randomMessage(r);
      const b = encodeMessage(m);
      expect(b.length).toBe(messageSize(m));
      expect(decodeMessage(b)).toEqual(m);
      expect(hex(encodeMessage(decodeMessage(b)))).toBe(hex(b));
    }
  });
});

describe('raftpb: decoding any valid protobuf', () => {
  it('skips unknown fields of every wire type, groups included', () => {
    const unknown = '9801ff01' + 'a1010102030405060708' + 'aa0103abcdef' + 'ad0101020304' + 'b3019801 01 b401'.replace(/ /g, '') + 'bb01 c301 0801 c401 bc01'.replace(/ /g, '');
    expect(decodeEntry(bytes('0801' + unknown + '1002' + unknown + '1803'))).toEqual({ type: 1, term: 2, index: 3, data: new Uint8Array(0) });
    const m = msg({ type: MessageType.MsgVote, to: 2n, from: 3n, term: 4 });
    expect(decodeMessage(bytes(hex(encodeMessage(m)) + unknown))).toEqual(m);
  });

  it('takes fields in any order, the last of a repeated scalar, and packed repeated ids', () => {
    expect(decodeHardState(bytes('1803 0801 1005 0809'.replace(/ /g, '')))).toEqual({ term: 9, vote: 5n, commit: 3 });
    expect(decodeConfState(bytes('0a03010203 0804 220105 2801'.replace(/ /g, '')))).toEqual(confState({ voters: [1n, 2n, 3n, 4n], learnersNext: [5n], autoLeave: true }));
    expect(decodeMessage(new Uint8Array(0))).toEqual(msg({ type: MessageType.MsgHup }));
  });

  it('reads 10-byte varints for ids, overlong encodings of small numbers, and bools as non-zero', () => {
    expect(decodeHardState(bytes('08 8180808000 10 ffffffffffffffffff01 18 00'.replace(/ /g, '')))).toEqual({ term: 1, vote: MAX_ID, commit: 0 });
    expect(decodeConfState(bytes('2802')).autoLeave).toBe(true);
  });
});

describe('raftpb: malformed bytes throw RangeError', () => {
  const cases: [string, string][] = [
    ['truncated varint', '0880'],
    ['truncated key', '88'],
    ['varint over 10 bytes', '08ffffffffffffffffffff01'],
    ['length past the end', '2205 0102'],
    ['wrong wire type for a known scalar', '0a0100'],
    ['wrong wire type for data', '2001'],
    ['field number 0', '0001'],
    ['wire type 6', '0e'],
    ['wire type 7', '0f'],
    ['an end group with no start', '0c'],
    ['an unterminated group', '0b0801'],
    ['a group ended by another field', '0b14'],
    ['a uint64 beyond 2^53 where a number is expected', '10ffffffffffffffff01'],
    ['fixed64 cut short', '39010203'],
  ];
  it.each(cases)('%s', (_name, h) => {
    expect(() => decodeEntry(bytes(h.replace(/ /g, '')))).toThrow(RangeError);
  });

  it('embedded messages are checked too (entry, snapshot, conf state)', () => {
    expect(() => decodeMessage(bytes('3a020880'))).toThrow(RangeError);
    expect(() => decodeMessage(bytes('4a04 1202 0a05'.replace(/ /g, '')))).toThrow(RangeError);
    expect(() => decodeMessage(bytes('3a01'))).toThrow(RangeError);
  });

  it('every truncation and random byte flip of valid messages either decodes or throws RangeError', () => {
    const r = rng(99);
    for (let i = 0; i < 300; i++) {
      const b = encodeMessage(randomMessage(r));
      const cuts = [Math.floor(r() * b.length), b.length - 1];
      for (const cut of cuts) expectRangeErrorOrValue(() => decodeMessage(b.subarray(0, cut)));
      const flipped = b.slice();
      for (let k = 0; k < 3; k++) flipped[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      expectRangeErrorOrValue(() => decodeMessage(flipped));
    }
  });
});

function expectRangeErrorOrValue(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
  }
}
