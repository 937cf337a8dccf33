/**
 * Hand-made protobuf encoders for the KV responses (Range, Put, DeleteRange, Txn) and decoders for
 * the hot KV requests (Range, Put, Txn): the gRPC API plugs them into grpc-js's service definition
 * (api/v3/kv-codec.ts), and raft-request.ts builds the replicated request's hot shapes on them.
 *
 * Why (for speed): protobufjs's path through proto-loader (fromObject → encode, decode → toObject)
 * was ~10% of a range's server CPU in profiles, most of it turning int64 decimal strings into Long
 * objects and back, and allocating an empty Buffer per absent bytes field. These
 * write straight from the facade's plain objects (revisions already numbers) into one exact-size
 * Buffer, and read straight into the object shape proto-loader gives (see proto.ts), so nothing
 * downstream changes.
 *
 * Encoding: fields in field-number order, each scalar omitted when it is the proto3 zero value
 * (0, false, empty bytes), as etcd (Go) does; protobufjs writes a zero that is present in the
 * object, so for objects without explicit zeros the bytes are identical to protobufjs's, and for
 * others they decode to the same message. int64 negatives take 10 bytes (two's complement).
 */
import type { Long } from '@grpc/proto-loader';
import type { Compare__Output } from '../pb/etcdserverpb/Compare.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { DeleteRangeResponse } from '../pb/etcdserverpb/DeleteRangeResponse.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { PutResponse } from '../pb/etcdserverpb/PutResponse.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { RangeResponse } from '../pb/etcdserverpb/RangeResponse.js';
import type { ResponseHeader } from '../pb/etcdserverpb/ResponseHeader.js';
import type { RequestOp__Output } from '../pb/etcdserverpb/RequestOp.js';
import type { ResponseOp } from '../pb/etcdserverpb/ResponseOp.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import type { TxnResponse } from '../pb/etcdserverpb/TxnResponse.js';
import type { KeyValue } from '../pb/mvccpb/KeyValue.js';

type Int64 = number | string | Long;
type Bytes = Buffer | Uint8Array | string;

/**
 * Shared zero-length Buffer: the decoded value of every empty bytes field (protobufjs makes a new
 * one each time, which was most of a decode's cost). It has no content anyone could change.
 */
const EMPTY: Buffer = Buffer.alloc(0);
/**
 * The range_end of a RangeRequest or Compare that was on the wire with zero length (Go clients leave
 * it out): etcd tells the two apart where it serves the decoded request itself (see api/v3/kv.ts).
 */
export const SENT_EMPTY: Buffer = Buffer.alloc(0);

// ---- 64-bit values as two uint32 halves (as protobufjs's LongBits), without allocating ----

let lo = 0;
let hi = 0;

/** Sets lo/hi from a number (two's complement for negatives, as protobufjs's LongBits.fromNumber). */
function bitsOfNumber(v: number): void {
  const neg = v < 0;
  if (neg) v = -v;
  lo = v >>> 0;
  hi = ((v - lo) / 4294967296) >>> 0;
  if (neg) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 4294967295) {
      lo = 0;
      if (++hi > 4294967295) hi = 0;
    }
  }
}

/** Decimal strings are taken modulo 2^64, as protobufjs's Long.fromString does. */
// the last decimal beyond 2^53 read by bitsOfString and its halves: a message's size and then its
// write read each such field twice (a request id in every replicated write's header)
let lastString = '';
let lastLo = 0;
let lastHi = 0;

function bitsOfString(s: string): void {
  if (s === lastString) {
    lo = lastLo;
    hi = lastHi;
    return;
  }
  const n = Number(s);
  if (Number.isSafeInteger(n)) {
    bitsOfNumber(n);
    return;
  }
  const b = BigInt.asUintN(64, BigInt(s));
  lastLo = lo = Number(b & 0xffffffffn);
  lastHi = hi = Number(b >> 32n);
  lastString = s;
}

/** Sets lo/hi from an int64 of any accepted form; true when it is not zero. */
function bits(v: Int64 | null | undefined): boolean {
  if (typeof v === 'number') bitsOfNumber(v);
  else if (typeof v === 'string') bitsOfString(v);
  else if (v == null) lo = hi = 0;
  else {
    lo = v.low >>> 0;
    hi = v.high >>> 0;
  }
  return (lo | hi) !== 0;
}

/** Size of the varint of lo/hi (protobufjs's LongBits.length). */
function varint64Size(): number {
  const p0 = lo;
  const p1 = ((lo >>> 28) | (hi << 4)) >>> 0;
  const p2 = hi >>> 24;
  if (p2 !== 0) return p2 < 128 ? 9 : 10;
  if (p1 !== 0) return p1 < 16384 ? (p1 < 128 ? 5 : 6) : p1 < 2097152 ? 7 : 8;
  return p0 < 16384 ? (p0 < 128 ? 1 : 2) : p0 < 2097152 ? 3 : 4;
}

function varint32Size(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
}

function bytesOf(v: Bytes | null | undefined): Uint8Array | undefined {
  if (v == null) return undefined;
  // protobufjs's fromObject reads a string given for a bytes field as base64.
  return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
}

// ---- the output buffer ----

let buf: Buffer = EMPTY;
let pos = 0;
/**
 * Lengths of the nested messages, in the order both passes visit them: the size pass reserves a
 * slot before sizing a message's children and fills it after, the write pass consumes them in the
 * same order. So every length is computed once however deep a txn nests.
 */
const lengths: number[] = [];
let next = 0;

function writeVarint32(v: number): void {
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
}

/** Writes the varint of lo/hi (protobufjs's writeVarint64). */
function writeVarint64(): void {
  let l = lo;
  let h = hi;
  while (h !== 0) {
    buf[pos++] = (l & 127) | 128;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  while (l > 127) {
    buf[pos++] = (l & 127) | 128;
    l >>>= 7;
  }
  buf[pos++] = l;
}

// Field tags (field number << 3 | wire type): one byte for fields 1-15, which is all the size
// functions count; writeBytes and writeMessage also write the two-byte tags of fields 16-2047, and
// their callers add the second byte to the size (see raft-request.ts).
const varintTag = (field: number): number => field << 3;
const lenTag = (field: number): number => (field << 3) | 2;

function writeTag(tag: number): void {
  if (tag < 128) buf[pos++] = tag;
  else writeVarint32(tag);
}

export function sizeInt64(v: Int64 | null | undefined): number {
  return bits(v) ? 1 + varint64Size() : 0;
}

export function writeInt64(field: number, v: Int64 | null | undefined): void {
  if (!bits(v)) return;
  buf[pos++] = varintTag(field);
  writeVarint64();
}

/** A negative number given for a uint64 is written as 0, as protobufjs's Long.fromValue(v, true) does. */
export const uint64 = (v: Int64 | null | undefined): Int64 | null | undefined => (typeof v === 'number' && v < 0 ? 0 : v);

export function sizeBytes(v: Bytes | null | undefined): number {
  const b = bytesOf(v);
  return b === undefined || b.length === 0 ? 0 : 1 + varint32Size(b.length) + b.length;
}

export function writeBytes(field: number, v: Bytes | null | undefined): void {
  const b = bytesOf(v);
  if (b === undefined || b.length === 0) return;
  writeTag(lenTag(field));
  writeVarint32(b.length);
  buf.set(b, pos);
  pos += b.length;
}

// A oneof member is written even when it is zero: that it is there is part of the message.

export function sizeInt64Member(v: Int64): number {
  bits(v);
  return 1 + varint64Size();
}

export function writeInt64Member(field: number, v: Int64): void {
  bits(v);
  buf[pos++] = varintTag(field);
  writeVarint64();
}

export function sizeBytesMember(v: Bytes): number {
  const n = bytesOf(v)!.length;
  return 1 + varint32Size(n) + n;
}

export function writeBytesMember(field: number, v: Bytes): void {
  const b = bytesOf(v)!;
  buf[pos++] = lenTag(field);
  writeVarint32(b.length);
  buf.set(b, pos);
  pos += b.length;
}

export function sizeBool(v: boolean | null | undefined): number {
  return v ? 2 : 0;
}

export function writeBool(field: number, v: boolean | null | undefined): void {
  if (!v) return;
  buf[pos++] = varintTag(field);
  buf[pos++] = 1;
}

/** A string field (UTF-8), omitted when empty. */
export function sizeString(v: string | null | undefined): number {
  if (!v) return 0;
  const n = Buffer.byteLength(v);
  return 1 + varint32Size(n) + n;
}

export function writeString(field: number, v: string | null | undefined): void {
  if (!v) return;
  buf[pos++] = lenTag(field);
  writeVarint32(Buffer.byteLength(v));
  pos += buf.write(v, pos);
}

/** Size of a field whose value is already encoded (a cached nested message). */
export function sizeRawField(b: Uint8Array): number {
  return 1 + varint32Size(b.length) + b.length;
}

export function writeRawField(field: number, b: Uint8Array): void {
  buf[pos++] = lenTag(field);
  writeVarint32(b.length);
  buf.set(b, pos);
  pos += b.length;
}

/** Bytes already encoded (whole fields), copied as they are. */
export function writeRaw(b: Uint8Array): void {
  buf.set(b, pos);
  pos += b.length;
}

/** Writes each part as a `field` into `out` (sized with sizeRawField), outside any other encode. */
export function encodeRawFields(out: Buffer, field: number, parts: readonly Uint8Array[]): void {
  buf = out;
  pos = 0;
  for (const p of parts) writeRawField(field, p);
  if (pos !== out.length) throw new Error(`kv-codec: wrote ${pos} bytes, sized ${out.length}`);
  buf = EMPTY;
}

/** Size of a nested message field, its length kept for the write pass. */
export function sizeMessage<T>(m: T, size: (m: T) => number): number {
  const slot = lengths.length;
  lengths.push(0);
  const n = size(m);
  lengths[slot] = n;
  return 1 + varint32Size(n) + n;
}

export function writeMessage<T>(field: number, m: T, write: (m: T) => void): void {
  writeTag(lenTag(field));
  writeVarint32(lengths[next++]!);
  write(m);
}

// ---- messages: a size function and a write function each, fields in number order ----

/** The header's two 64-bit ids, encoded once for as long as they stay the same. */
let idsCached = false;
let cachedCluster: Int64 | null | undefined;
let cachedMember: Int64 | null | undefined;
let idsBytes: Buffer = EMPTY;

function headerIds(h: ResponseHeader): Buffer {
  // Headers nested in a txn carry only the revision: no need to touch the cache.
  if (h.cluster_id == null && h.member_id == null) return EMPTY;
  if (!idsCached || h.cluster_id !== cachedCluster || h.member_id !== cachedMember) {
    const n = sizeInt64(uint64(h.cluster_id)) + sizeInt64(uint64(h.member_id));
    const [outerBuf, outerPos] = [buf, pos];
    buf = Buffer.alloc(n);
    pos = 0;
    writeInt64(1, uint64(h.cluster_id));
    writeInt64(2, uint64(h.member_id));
    idsBytes = buf;
    [buf, pos] = [outerBuf, outerPos];
    // Only primitives are cached: a Long could be mutated in place.
    idsCached = typeof h.cluster_id !== 'object' && typeof h.member_id !== 'object';
    cachedCluster = h.cluster_id;
    cachedMember = h.member_id;
  }
  return idsBytes;
}

export function sizeHeader(h: ResponseHeader): number {
  return headerIds(h).length + sizeInt64(h.revision) + sizeInt64(uint64(h.raft_term));
}

export function writeHeader(h: ResponseHeader): void {
  const ids = headerIds(h);
  buf.set(ids, pos);
  pos += ids.length;
  writeInt64(3, h.revision);
  writeInt64(4, uint64(h.raft_term));
}

export function sizeKv(kv: KeyValue): number {
  return (
    sizeBytes(kv.key) +
    sizeInt64(kv.create_revision) +
    sizeInt64(kv.mod_revision) +
    sizeInt64(kv.version) +
    sizeBytes(kv.value) +
    sizeInt64(kv.lease)
  );
}

export function writeKv(kv: KeyValue): void {
  writeBytes(1, kv.key);
  writeInt64(2, kv.create_revision);
  writeInt64(3, kv.mod_revision);
  writeInt64(4, kv.version);
  writeBytes(5, kv.value);
  writeInt64(6, kv.lease);
}

function sizeKvs(kvs: readonly KeyValue[] | null | undefined): number {
  let n = 0;
  if (kvs) for (const kv of kvs) n += sizeMessage(kv, sizeKv);
  return n;
}

function writeKvs(field: number, kvs: readonly KeyValue[] | null | undefined): void {
  if (kvs) for (const kv of kvs) writeMessage(field, kv, writeKv);
}

function sizeRange(m: RangeResponse): number {
  return (m.header != null ? sizeMessage(m.header, sizeHeader) : 0) + sizeKvs(m.kvs) + sizeBool(m.more) + sizeInt64(m.count);
}

function writeRange(m: RangeResponse): void {
  if (m.header != null) writeMessage(1, m.header, writeHeader);
  writeKvs(2, m.kvs);
  writeBool(3, m.more);
  writeInt64(4, m.count);
}

function sizePut(m: PutResponse): number {
  return (m.header != null ? sizeMessage(m.header, sizeHeader) : 0) + (m.prev_kv != null ? sizeMessage(m.prev_kv, sizeKv) : 0);
}

function writePut(m: PutResponse): void {
  if (m.header != null) writeMessage(1, m.header, writeHeader);
  if (m.prev_kv != null) writeMessage(2, m.prev_kv, writeKv);
}

function sizeDelete(m: DeleteRangeResponse): number {
  return (m.header != null ? sizeMessage(m.header, sizeHeader) : 0) + sizeInt64(m.deleted) + sizeKvs(m.prev_kvs);
}

function writeDelete(m: DeleteRangeResponse): void {
  if (m.header != null) writeMessage(1, m.header, writeHeader);
  writeInt64(2, m.deleted);
  writeKvs(3, m.prev_kvs);
}

/** A oneof: every member set is written, in field order (as protobufjs does). */
function sizeOp(op: ResponseOp): number {
  let n = 0;
  if (op.response_range != null) n += sizeMessage(op.response_range, sizeRange);
  if (op.response_put != null) n += sizeMessage(op.response_put, sizePut);
  if (op.response_delete_range != null) n += sizeMessage(op.response_delete_range, sizeDelete);
  if (op.response_txn != null) n += sizeMessage(op.response_txn, sizeTxn);
  return n;
}

function writeOp(op: ResponseOp): void {
  if (op.response_range != null) writeMessage(1, op.response_range, writeRange);
  if (op.response_put != null) writeMessage(2, op.response_put, writePut);
  if (op.response_delete_range != null) writeMessage(3, op.response_delete_range, writeDelete);
  if (op.response_txn != null) writeMessage(4, op.response_txn, writeTxn);
}

function sizeTxn(m: TxnResponse): number {
  let n = (m.header != null ? sizeMessage(m.header, sizeHeader) : 0) + sizeBool(m.succeeded);
  if (m.responses) for (const op of m.responses) n += sizeMessage(op, sizeOp);
  return n;
}

function writeTxn(m: TxnResponse): void {
  if (m.header != null) writeMessage(1, m.header, writeHeader);
  writeBool(2, m.succeeded);
  if (m.responses) for (const op of m.responses) writeMessage(3, op, writeOp);
}

/** Two passes: sizes (and nested lengths), then one exact-size Buffer written front to back. */
export function encoder<T>(size: (m: T) => number, write: (m: T) => void): (m: T) => Buffer {
  return (m) => {
    lengths.length = 0;
    next = 0;
    const out = Buffer.allocUnsafe(size(m));
    buf = out;
    pos = 0;
    write(m);
    if (pos !== out.length) throw new Error(`kv-codec: wrote ${pos} bytes, sized ${out.length}`);
    buf = EMPTY; // not to keep the last message alive
    return out;
  };
}

export const encodeRangeResponse = encoder(sizeRange, writeRange);
export const encodePutResponse = encoder(sizePut, writePut);
export const encodeDeleteRangeResponse = encoder(sizeDelete, writeDelete);
export const encodeTxnResponse = encoder(sizeTxn, writeTxn);

// ---- request decoders: the object proto-loader's toObject gives (see proto.ts) ----
//
// Every field is present with its default, in field order, then the members of a oneof that were
// on the wire and the oneof's virtual field. int64 are signed decimal strings, enums names (a number
// when unknown), bytes Buffers sharing the received buffer. As protobufjs's decoder: a known field
// is read by its declared type whatever its wire type, unknown fields are skipped, a repeated
// non-repeated field keeps the last value.

let rbuf: Buffer = EMPTY;
let rpos = 0;



function outOfRange(): never {
  throw new RangeError(`index out of range: ${rpos} > ${rbuf.length}`);
}

function readByte(): number {
  if (rpos >= rbuf.length) outOfRange();
  return rbuf[rpos++]!;
}

/** Reads a varint into lo/hi (protobufjs's readLongVarint). */
function readVarint64(): void {
  let l = 0;
  let h = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    b = readByte();
    l |= (b & 127) << shift;
    if (b < 128) {
      lo = l >>> 0;
      hi = 0;
      return;
    }
  }
  b = readByte();
  l |= (b & 127) << 28;
  h = (b & 127) >> 4;
  if (b >= 128) {
    for (let shift = 3; ; shift += 7) {
      if (shift > 31) throw new Error('invalid varint encoding');
      b = readByte();
      h |= (b & 127) << shift;
      if (b < 128) break;
    }
  }
  lo = l >>> 0;
  hi = h >>> 0;
}

/** A uint32 varint (tags, lengths): its low 32 bits, as protobufjs's uint32(). */
export function readUint32(): number {
  const b = rpos < rbuf.length ? rbuf[rpos]! : 128;
  if (b < 128) {
    rpos++;
    return b;
  }
  readVarint64();
  return lo;
}

/** uint64 as protobufjs's unsigned Long.toString; numbers below 2^53 without BigInt. */
export function readUint64(): string {
  readVarint64();
  if (hi < 0x200000) return String(hi * 4294967296 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** int64 as protobufjs's Long.toString (signed decimal); numbers below 2^53 without BigInt. */
export function readInt64(): string {
  const b = rpos < rbuf.length ? rbuf[rpos]! : 128;
  if (b < 128) {
    rpos++;
    return String(b);
  }
  readVarint64();
  if (hi < 0x200000) return String(hi * 4294967296 + lo);
  if (hi >= 0xffe00000 && (hi !== 0xffe00000 || lo !== 0)) {
    // negative with magnitude below 2^53: -(2^64 - value)
    return String(-((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1));
  }
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** protobufjs reads a bool as uint32() !== 0: only the low 32 bits count. */
function readBool(): boolean {
  const b = rpos < rbuf.length ? rbuf[rpos]! : 128;
  if (b < 128) {
    rpos++;
    return b !== 0;
  }
  readVarint64();
  return lo !== 0;
}

function readEnum<N extends string>(names: readonly N[]): N | number {
  readVarint64();
  const v = lo | 0;
  return names[v] ?? v;
}

function readBytes(): Buffer {
  const n = readUint32();
  const start = rpos;
  const end = start + n;
  if (end > rbuf.length) outOfRange();
  rpos = end;
  return n === 0 ? EMPTY : rbuf.subarray(start, end);
}

/** A proto3 string field's value (UTF-8). */
export function readString(): string {
  return readBytes().toString('utf8');
}

function readRangeEnd(): Buffer {
  const b = readBytes();
  return b.length === 0 ? SENT_EMPTY : b;
}

export function skip(wireType: number): void {
  switch (wireType) {
    case 0:
      readVarint64();
      return;
    case 1:
      rpos += 8;
      break;
    case 2: {
      // not `rpos += readUint32()`: that adds the length to rpos as it was before the length was read
      const n = readUint32();
      rpos += n;
      break;
    }
    case 3:
      for (;;) {
        const t = readUint32();
        if ((t & 7) === 4) return;
        skip(t & 7);
      }
    case 5:
      rpos += 4;
      break;
    default:
      throw new Error(`invalid wire type ${wireType} at offset ${rpos}`);
  }
  if (rpos > rbuf.length) outOfRange();
}

/** True while the reader is before `end` (the loop condition of a message's reader). */
export function readingBefore(end: number): boolean {
  return rpos < end;
}

/** End offset of the length-delimited message starting at rpos. */
export function messageEnd(): number {
  const n = readUint32();
  return rpos + n;
}

export const SORT_ORDERS = ['NONE', 'ASCEND', 'DESCEND'] as const;
export const SORT_TARGETS = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const;
export const COMPARE_RESULTS = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const;
export const COMPARE_TARGETS = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const;

/** A RangeRequest with every field at its default, as proto-loader's toObject gives an empty one. */
export function newRangeRequest(): RangeRequest__Output {
  return {
    key: EMPTY,
    range_end: EMPTY,
    limit: '0',
    revision: '0',
    sort_order: 'NONE',
    sort_target: 'KEY',
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: '0',
    max_mod_revision: '0',
    min_create_revision: '0',
    max_create_revision: '0',
  } as RangeRequest__Output;
}

function readRange(end: number): RangeRequest__Output {
  const m = newRangeRequest();
  while (rpos < end) {
    const t = readUint32();
    switch (t >>> 3) {
      case 1: m.key = readBytes(); break;
      case 2: m.range_end = readRangeEnd(); break;
      case 3: m.limit = readInt64(); break;
      case 4: m.revision = readInt64(); break;
      case 5: m.sort_order = readEnum(SORT_ORDERS) as RangeRequest__Output['sort_order']; break;
      case 6: m.sort_target = readEnum(SORT_TARGETS) as RangeRequest__Output['sort_target']; break;
      case 7: m.serializable = readBool(); break;
      case 8: m.keys_only = readBool(); break;
      case 9: m.count_only = readBool(); break;
      case 10: m.min_mod_revision = readInt64(); break;
      case 11: m.max_mod_revision = readInt64(); break;
      case 12: m.min_create_revision = readInt64(); break;
      case 13: m.max_create_revision = readInt64(); break;
      default: skip(t & 7);
    }
  }
  return m;
}

export function readPut(end: number): PutRequest__Output {
  const m: PutRequest__Output = { key: EMPTY, value: EMPTY, lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false };
  while (rpos < end) {
    const t = readUint32();
    switch (t >>> 3) {
      case 1: m.key = readBytes(); break;
      case 2: m.value = readBytes(); break;
      case 3: m.lease = readInt64(); break;
      case 4: m.prev_kv = readBool(); break;
      case 5: m.ignore_value = readBool(); break;
      case 6: m.ignore_lease = readBool(); break;
      default: skip(t & 7);
    }
  }
  return m;
}

export function readDelete(end: number): DeleteRangeRequest__Output {
  const m: DeleteRangeRequest__Output = { key: EMPTY, range_end: EMPTY, prev_kv: false };
  while (rpos < end) {
    const t = readUint32();
    switch (t >>> 3) {
      case 1: m.key = readBytes(); break;
      case 2: m.range_end = readBytes(); break;
      case 3: m.prev_kv = readBool(); break;
      default: skip(t & 7);
    }
  }
  return m;
}

type CompareUnion = 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
const COMPARE_UNION: readonly (CompareUnion | undefined)[] = [undefined, undefined, undefined, undefined, 'version', 'create_revision', 'mod_revision', 'value', 'lease'];

function readCompare(end: number): Compare__Output {
  const m = { result: 'EQUAL', target: 'VERSION', key: EMPTY, range_end: EMPTY } as Compare__Output;
  const union: Partial<Record<CompareUnion, string | Buffer>> = {};
  let members = 0;
  while (rpos < end) {
    const t = readUint32();
    const f = t >>> 3;
    switch (f) {
      case 1: m.result = readEnum(COMPARE_RESULTS) as Compare__Output['result']; break;
      case 2: m.target = readEnum(COMPARE_TARGETS) as Compare__Output['target']; break;
      case 3: m.key = readBytes(); break;
      case 4: case 5: case 6: case 8:
        union[COMPARE_UNION[f]!] = readInt64();
        members |= 1 << f;
        break;
      case 7:
        union.value = readBytes();
        members |= 1 << f;
        break;
      case 64: m.range_end = readRangeEnd(); break;
      default: skip(t & 7);
    }
  }
  // oneof members in field order, the virtual field naming the last (as toObject does)
  for (let f = 4; f <= 8; f++) {
    if (members & (1 << f)) {
      const name = COMPARE_UNION[f]!;
      (m as unknown as Record<string, unknown>)[name] = union[name];
      m.target_union = name;
    }
  }
  return m;
}

type OpMember = 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
const OP_MEMBERS: readonly OpMember[] = ['request_range', 'request_put', 'request_delete_range', 'request_txn'];

function readOp(end: number): RequestOp__Output {
  const found: [RangeRequest__Output?, PutRequest__Output?, DeleteRangeRequest__Output?, TxnRequest__Output?] = [];
  while (rpos < end) {
    const t = readUint32();
    switch (t >>> 3) {
      case 1: found[0] = readRange(messageEnd()); break;
      case 2: found[1] = readPut(messageEnd()); break;
      case 3: found[2] = readDelete(messageEnd()); break;
      case 4: found[3] = readTxn(messageEnd()); break;
      default: skip(t & 7);
    }
  }
  const m: Record<string, unknown> = {};
  for (let i = 0; i < 4; i++) {
    if (found[i] !== undefined) {
      m[OP_MEMBERS[i]!] = found[i];
      m.request = OP_MEMBERS[i];
    }
  }
  return m as RequestOp__Output;
}

export function readTxn(end: number): TxnRequest__Output {
  const m: TxnRequest__Output = { compare: [], success: [], failure: [] };
  while (rpos < end) {
    const t = readUint32();
    switch (t >>> 3) {
      case 1: m.compare.push(readCompare(messageEnd())); break;
      case 2: m.success.push(readOp(messageEnd())); break;
      case 3: m.failure.push(readOp(messageEnd())); break;
      default: skip(t & 7);
    }
  }
  return m;
}

export function decoder<T>(read: (end: number) => T): (b: Buffer) => T {
  return (b) => {
    rbuf = b;
    rpos = 0;
    try {
      return read(b.length);
    } finally {
      rbuf = EMPTY;
    }
  };
}

export const decodeRangeRequest = decoder(readRange);
export const decodePutRequest = decoder(readPut);
export const decodeTxnRequest = decoder(readTxn);
