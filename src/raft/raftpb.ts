/*
 * etcd 3.4's raftpb wire encoding (proto2, gogoproto nullable=false) of our raft types, byte for
 * byte what gogoproto's generated Marshal writes, so that our members and etcd's understand each
 * other and our entries match etcd's.
 *
 * Rules of that Marshal: every scalar field is written even when zero, in field-number order;
 * Entry.data and Snapshot.data only when non-nil; Message.context only when non-nil; Message.snapshot
 * is not a pointer, so it is always written (an empty one when there is none); repeated uint64s in
 * ConfState are not packed (one tag per value); bools are one byte 0 or 1.
 *
 *   Entry     1:type 2:term 3:index [4:data]
 *   HardState 1:term 2:vote 3:commit
 *   ConfState 1:voters* 2:learners* 3:votersOutgoing* 4:learnersNext* 5:autoLeave
 *   SnapshotMetadata 1:confState 2:index 3:term        Snapshot [1:data] 2:metadata
 *   Message   1:type 2:to 3:from 4:term 5:logTerm 6:index 7:entries* 8:commit 9:snapshot 10:reject
 *             11:rejectHint [12:context]
 *
 * Worked example: Entry{type: EntryNormal, term: 2, index: 5, data: "hi"} is
 *   08 00  10 02  18 05  22 02 68 69
 * and the empty snapshot every non-MsgSnap message carries is field 9 holding
 *   4a 0a | 12 08 | 0a 02 (28 00) 10 00 18 00      (metadata{confState{autoLeave: false}, 0, 0})
 *
 * nil and empty bytes: Go tells a nil slice (field absent) from an empty one (field of length 0).
 * Here an absent Message.context is `undefined`; for Entry.data and Snapshot.data a zero-length
 * array means nil, except the shared PRESENT_EMPTY array, which is written as a present empty
 * field (decoding gives it back, so decode → encode is exact).
 *
 * Decoding accepts any valid protobuf: unknown fields are skipped, repeated uint64s may be packed.
 * Malformed bytes throw RangeError. Decoded byte fields are views into the input (no copy).
 */
import { ProtoReader, uintSize, u64Size, writeUint, writeU64 } from './wire.js';
import {
  type ConfState, type Entry, type EntryType, type HardState, type Message, type MessageType,
  type NodeId, type Snapshot, type SnapshotMetadata,
} from './types.js';

/** An empty byte string that is written as a present (non-nil) field. */
export const PRESENT_EMPTY: Uint8Array = new Uint8Array(0);
const NIL: Uint8Array = new Uint8Array(0);

/** The bytes of Message field 9 when it holds no snapshot (tag, length, empty Snapshot). */
const EMPTY_SNAPSHOT_BODY = Uint8Array.of(0x12, 0x08, 0x0a, 0x02, 0x28, 0x00, 0x10, 0x00, 0x18, 0x00);

const bytesWritten = (b: Uint8Array): boolean => b.length > 0 || b === PRESENT_EMPTY;
const lenField = (n: number): number => uintSize(n) + n;

// ---------------------------------------------------------------- Entry

/** Size of the encoded Entry (without a tag or length prefix). */
export function entrySize(e: Entry): number {
  let n = 3 + uintSize(e.type) + uintSize(e.term) + uintSize(e.index);
  if (bytesWritten(e.data)) n += 1 + lenField(e.data.length);
  return n;
}

/** Writes e into buf at off (buf must have entrySize(e) bytes there); returns the offset after it. */
export function encodeEntryTo(e: Entry, buf: Uint8Array, off: number): number {
  buf[off++] = 0x08;
  off = writeUint(buf, off, e.type);
  buf[off++] = 0x10;
  off = writeUint(buf, off, e.term);
  buf[off++] = 0x18;
  off = writeUint(buf, off, e.index);
  if (bytesWritten(e.data)) {
    buf[off++] = 0x22;
    off = writeUint(buf, off, e.data.length);
    buf.set(e.data, off);
    off += e.data.length;
  }
  return off;
}

export function encodeEntry(e: Entry): Uint8Array {
  const buf = new Uint8Array(entrySize(e));
  encodeEntryTo(e, buf, 0);
  return buf;
}

export function decodeEntry(b: Uint8Array): Entry {
  return readEntry(ProtoReader.of(b));
}

function readEntry(r: ProtoReader): Entry {
  const e: Entry = { term: 0, index: 0, type: 0, data: NIL };
  while (r.next()) {
    const field = r.field;
    if (field === 1) e.type = r.uint() as EntryType;
    else if (field === 2) e.term = r.uint();
    else if (field === 3) e.index = r.uint();
    else if (field === 4) e.data = bytesOrPresent(r.bytes());
    else r.skip();
  }
  return e;
}

const bytesOrPresent = (b: Uint8Array): Uint8Array => (b.length === 0 ? PRESENT_EMPTY : b);

// ---------------------------------------------------------------- HardState

export function encodeHardState(h: HardState): Uint8Array {
  const buf = new Uint8Array(3 + uintSize(h.term) + u64Size(h.vote) + uintSize(h.commit));
  let off = 0;
  buf[off++] = 0x08;
  off = writeUint(buf, off, h.term);
  buf[off++] = 0x10;
  off = writeU64(buf, off, h.vote);
  buf[off++] = 0x18;
  writeUint(buf, off, h.commit);
  return buf;
}

export function decodeHardState(b: Uint8Array): HardState {
  const r = ProtoReader.of(b);
  const h: HardState = { term: 0, vote: 0n, commit: 0 };
  while (r.next()) {
    const field = r.field;
    if (field === 1) h.term = r.uint();
    else if (field === 2) h.vote = r.u64();
    else if (field === 3) h.commit = r.uint();
    else r.skip();
  }
  return h;
}

// ---------------------------------------------------------------- ConfState, Snapshot

const idsSize = (ids: readonly NodeId[]): number => ids.reduce((n, id) => n + 1 + u64Size(id), 0);

export function confStateSize(c: ConfState): number {
  return idsSize(c.voters) + idsSize(c.learners) + idsSize(c.votersOutgoing) + idsSize(c.learnersNext) + 2;
}

function writeIds(buf: Uint8Array, off: number, tag: number, ids: readonly NodeId[]): number {
  for (const id of ids) {
    buf[off++] = tag;
    off = writeU64(buf, off, id);
  }
  return off;
}

function encodeConfStateTo(c: ConfState, buf: Uint8Array, off: number): number {
  off = writeIds(buf, off, 0x08, c.voters);
  off = writeIds(buf, off, 0x10, c.learners);
  off = writeIds(buf, off, 0x18, c.votersOutgoing);
  off = writeIds(buf, off, 0x20, c.learnersNext);
  buf[off++] = 0x28;
  buf[off++] = c.autoLeave ? 1 : 0;
  return off;
}

export function encodeConfState(c: ConfState): Uint8Array {
  const buf = new Uint8Array(confStateSize(c));
  encodeConfStateTo(c, buf, 0);
  return buf;
}

export function decodeConfState(b: Uint8Array): ConfState {
  return readConfState(ProtoReader.of(b));
}

const emptyConfState = (): ConfState => ({ voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });

function readConfState(r: ProtoReader): ConfState {
  const c = emptyConfState();
  while (r.next()) {
    const field = r.field;
    if (field === 1) r.repeatedU64(c.voters);
    else if (field === 2) r.repeatedU64(c.learners);
    else if (field === 3) r.repeatedU64(c.votersOutgoing);
    else if (field === 4) r.repeatedU64(c.learnersNext);
    else if (field === 5) c.autoLeave = r.uint() !== 0;
    else r.skip();
  }
  return c;
}

const metadataSize = (m: SnapshotMetadata): number => 3 + lenField(confStateSize(m.confState)) + uintSize(m.index) + uintSize(m.term);

export function snapshotSize(s: Snapshot): number {
  return (bytesWritten(s.data) ? 1 + lenField(s.data.length) : 0) + 1 + lenField(metadataSize(s.metadata));
}

function encodeSnapshotTo(s: Snapshot, buf: Uint8Array, off: number): number {
  if (bytesWritten(s.data)) {
    buf[off++] = 0x0a;
    off = writeUint(buf, off, s.data.length);
    buf.set(s.data, off);
    off += s.data.length;
  }
  const md = s.metadata;
  buf[off++] = 0x12;
  off = writeUint(buf, off, metadataSize(md));
  buf[off++] = 0x0a;
  off = writeUint(buf, off, confStateSize(md.confState));
  off = encodeConfStateTo(md.confState, buf, off);
  buf[off++] = 0x10;
  off = writeUint(buf, off, md.index);
  buf[off++] = 0x18;
  return writeUint(buf, off, md.term);
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const buf = new Uint8Array(snapshotSize(s));
  encodeSnapshotTo(s, buf, 0);
  return buf;
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  return readSnapshot(ProtoReader.of(b));
}

function readSnapshot(r: ProtoReader): Snapshot {
  const s: Snapshot = { data: NIL, metadata: { confState: emptyConfState(), index: 0, term: 0 } };
  while (r.next()) {
    const field = r.field;
    if (field === 1) s.data = bytesOrPresent(r.bytes());
    else if (field === 2) s.metadata = readMetadata(r.message());
    else r.skip();
  }
  return s;
}

function readMetadata(r: ProtoReader): SnapshotMetadata {
  const m: SnapshotMetadata = { confState: emptyConfState(), index: 0, term: 0 };
  while (r.next()) {
    const field = r.field;
    if (field === 1) m.confState = readConfState(r.message());
    else if (field === 2) m.index = r.uint();
    else if (field === 3) m.term = r.uint();
    else r.skip();
  }
  return m;
}

// ---------------------------------------------------------------- Message

/** Size of the encoded Message (gogoproto's m.Size()), the length etcd's stream framing writes. */
export function messageSize(m: Message): number {
  let n = 6 + uintSize(m.type) + u64Size(m.to) + u64Size(m.from) + uintSize(m.term) + uintSize(m.logTerm) + uintSize(m.index);
  for (const e of m.entries) n += 1 + lenField(entrySize(e));
  n += 1 + uintSize(m.commit);
  n += 1 + lenField(m.snapshot ? snapshotSize(m.snapshot) : EMPTY_SNAPSHOT_BODY.length);
  n += 2 + 1 + uintSize(m.rejectHint);
  if (m.context) n += 1 + lenField(m.context.length);
  return n;
}

/** Writes m into buf at off (messageSize(m) bytes must be free there); returns the offset after it. */
export function encodeMessageTo(m: Message, buf: Uint8Array, off: number): number {
  buf[off++] = 0x08;
  off = writeUint(buf, off, m.type);
  buf[off++] = 0x10;
  off = writeU64(buf, off, m.to);
  buf[off++] = 0x18;
  off = writeU64(buf, off, m.from);
  buf[off++] = 0x20;
  off = writeUint(buf, off, m.term);
  buf[off++] = 0x28;
  off = writeUint(buf, off, m.logTerm);
  buf[off++] = 0x30;
  off = writeUint(buf, off, m.index);
  for (const e of m.entries) {
    buf[off++] = 0x3a;
    off = writeUint(buf, off, entrySize(e));
    off = encodeEntryTo(e, buf, off);
  }
  buf[off++] = 0x40;
  off = writeUint(buf, off, m.commit);
  buf[off++] = 0x4a;
  if (m.snapshot) {
    off = writeUint(buf, off, snapshotSize(m.snapshot));
    off = encodeSnapshotTo(m.snapshot, buf, off);
  } else {
    buf[off++] = EMPTY_SNAPSHOT_BODY.length;
    buf.set(EMPTY_SNAPSHOT_BODY, off);
    off += EMPTY_SNAPSHOT_BODY.length;
  }
  buf[off++] = 0x50;
  buf[off++] = m.reject ? 1 : 0;
  buf[off++] = 0x58;
  off = writeUint(buf, off, m.rejectHint);
  if (m.context) {
    buf[off++] = 0x62;
    off = writeUint(buf, off, m.context.length);
    buf.set(m.context, off);
    off += m.context.length;
  }
  return off;
}

export function encodeMessage(m: Message): Uint8Array {
  const buf = new Uint8Array(messageSize(m));
  encodeMessageTo(m, buf, 0);
  return buf;
}

/**
 * Decodes a raftpb.Message. A snapshot field holding exactly the empty snapshot (what etcd writes for
 * "no snapshot") decodes as `snapshot: undefined`; an absent context as `context: undefined`.
 */
export function decodeMessage(b: Uint8Array): Message {
  const r = ProtoReader.of(b);
  const m: Message = {
    type: 0, to: 0n, from: 0n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0,
    snapshot: undefined, reject: false, rejectHint: 0, context: undefined,
  };
  while (r.next()) {
    const field = r.field;
    switch (field) {
      case 1: m.type = r.uint() as MessageType; break;
      case 2: m.to = r.u64(); break;
      case 3: m.from = r.u64(); break;
      case 4: m.term = r.uint(); break;
      case 5: m.logTerm = r.uint(); break;
      case 6: m.index = r.uint(); break;
      case 7: m.entries.push(readEntry(r.message())); break;
      case 8: m.commit = r.uint(); break;
      case 9: {
        const s = r.message();
        m.snapshot = isEmptySnapshotBody(s) ? undefined : readSnapshot(s);
        break;
      }
      case 10: m.reject = r.uint() !== 0; break;
      case 11: m.rejectHint = r.uint(); break;
      case 12: m.context = r.bytes(); break;
      default: r.skip();
    }
  }
  return m;
}

function isEmptySnapshotBody(r: ProtoReader): boolean {
  if (r.end - r.pos !== EMPTY_SNAPSHOT_BODY.length) return false;
  for (let i = 0; i < EMPTY_SNAPSHOT_BODY.length; i++) if (r.buf[r.pos + i] !== EMPTY_SNAPSHOT_BODY[i]) return false;
  return true;
}
