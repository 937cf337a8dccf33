/**
 * The replicated request's hot shapes by hand: a header and one of put, delete_range or txn
 * (etcdserverpb.InternalRaftRequest, etcd's raft_internal.proto: put=4, delete_range=5, txn=6,
 * header=100), the writes clients make. Every other request goes through protobufjs
 * (server/internal-request.ts decides).
 *
 * Why (for speed): each write is encoded once when proposed and decoded once when applied. Through
 * protobufjs (fromObject → encode, decode → toObject) a put allocated ~4 KB for it, a sixth of all
 * it allocates with 1,000 clients (heap sampling), most of it Long objects for the header's ID and
 * the int64 fields; the fast path makes 1 in 9 scavenges unnecessary in that load.
 *
 * Encoding is etcd's Marshal (gogoproto), byte for byte: fields in number order (the sub-request,
 * then the header, field 100, with its two-byte tag a2 06), proto3 zero scalars left out, oneof
 * members written even when zero. e.g. etcd's put foo=bar with request id 0x...:
 *   22 0a 0a 03 "foo" 12 03 "bar"  a2 06 0b 08 <ID varint>
 * Decoding: the object protobufjs's toObject gives (the sub-request as kv.ts's gRPC decoders read it,
 * the header's uint64s as unsigned decimal strings). Input with anything else on the wire (another
 * field, two sub-requests) or that does not parse gives undefined: the caller decodes it
 * with protobufjs.
 *
 * scanInternalRaftRequest is gogoproto's decision on whether bytes are an InternalRaftRequest at all
 * (etcd writes v2 requests as a bare etcdserverpb.Request and tells them apart by that refusal).
 */
import type { Compare__Output } from '../pb/etcdserverpb/Compare.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { RequestOp__Output } from '../pb/etcdserverpb/RequestOp.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import {
  COMPARE_RESULTS,
  COMPARE_TARGETS,
  SORT_ORDERS,
  SORT_TARGETS,
  decoder,
  encoder,
  messageEnd,
  readDelete,
  readPut,
  readString,
  readTxn,
  readUint32,
  readUint64,
  readingBefore,
  sizeBool,
  sizeBytes,
  sizeBytesMember,
  sizeInt64,
  sizeInt64Member,
  sizeMessage,
  sizeString,
  uint64,
  writeBool,
  writeBytes,
  writeBytesMember,
  writeInt64,
  writeInt64Member,
  writeMessage,
  writeString,
} from './kv.js';
import { GogoReader, readRequest, unlessRefused } from './v2-request.js';

export interface RaftHeader {
  ID: string;
  username?: string;
  auth_revision?: string;
}

/** A header and one write: the first of put, delete_range and txn that is not null is the one. */
export interface RaftWrite {
  header: RaftHeader;
  put?: PutRequest__Output | null;
  delete_range?: DeleteRangeRequest__Output | null;
  txn?: TxnRequest__Output | null;
}

const PUT = 4;
const DELETE_RANGE = 5;
const TXN = 6;
const HEADER = 100;
/** Field 100's tag takes two bytes; sizeMessage counts one. */
const HEADER_TAG_EXTRA = 1;
/** Compare.range_end is field 64: a two-byte tag as well. */
const RANGE_END_FIELD = 64;

/** An enum by name or number as protobufjs's fromObject takes it: an unknown name is the default. */
function enumValue(names: readonly string[], v: string | number | null | undefined): number {
  if (typeof v === 'number') return v;
  const i = v == null ? -1 : names.indexOf(v);
  return i < 0 ? 0 : i;
}

// ---- size and write functions, fields in number order ----

function sizeHeader(h: RaftHeader): number {
  return sizeInt64(uint64(h.ID)) + sizeString(h.username) + sizeInt64(uint64(h.auth_revision));
}
function writeHeader(h: RaftHeader): void {
  writeInt64(1, uint64(h.ID));
  writeString(2, h.username);
  writeInt64(3, uint64(h.auth_revision));
}

function sizePut(m: PutRequest__Output): number {
  return sizeBytes(m.key) + sizeBytes(m.value) + sizeInt64(m.lease) + sizeBool(m.prev_kv) + sizeBool(m.ignore_value) + sizeBool(m.ignore_lease);
}
function writePut(m: PutRequest__Output): void {
  writeBytes(1, m.key);
  writeBytes(2, m.value);
  writeInt64(3, m.lease);
  writeBool(4, m.prev_kv);
  writeBool(5, m.ignore_value);
  writeBool(6, m.ignore_lease);
}

function sizeDelete(m: DeleteRangeRequest__Output): number {
  return sizeBytes(m.key) + sizeBytes(m.range_end) + sizeBool(m.prev_kv);
}
function writeDelete(m: DeleteRangeRequest__Output): void {
  writeBytes(1, m.key);
  writeBytes(2, m.range_end);
  writeBool(3, m.prev_kv);
}

function sizeRange(m: RangeRequest__Output): number {
  return (
    sizeBytes(m.key) + sizeBytes(m.range_end) + sizeInt64(m.limit) + sizeInt64(m.revision) +
    sizeInt64(enumValue(SORT_ORDERS, m.sort_order)) + sizeInt64(enumValue(SORT_TARGETS, m.sort_target)) +
    sizeBool(m.serializable) + sizeBool(m.keys_only) + sizeBool(m.count_only) +
    sizeInt64(m.min_mod_revision) + sizeInt64(m.max_mod_revision) + sizeInt64(m.min_create_revision) + sizeInt64(m.max_create_revision)
  );
}
function writeRange(m: RangeRequest__Output): void {
  writeBytes(1, m.key);
  writeBytes(2, m.range_end);
  writeInt64(3, m.limit);
  writeInt64(4, m.revision);
  writeInt64(5, enumValue(SORT_ORDERS, m.sort_order));
  writeInt64(6, enumValue(SORT_TARGETS, m.sort_target));
  writeBool(7, m.serializable);
  writeBool(8, m.keys_only);
  writeBool(9, m.count_only);
  writeInt64(10, m.min_mod_revision);
  writeInt64(11, m.max_mod_revision);
  writeInt64(12, m.min_create_revision);
  writeInt64(13, m.max_create_revision);
}

function sizeCompare(c: Compare__Output): number {
  let n = sizeInt64(enumValue(COMPARE_RESULTS, c.result)) + sizeInt64(enumValue(COMPARE_TARGETS, c.target)) + sizeBytes(c.key);
  if (c.version != null) n += sizeInt64Member(c.version);
  if (c.create_revision != null) n += sizeInt64Member(c.create_revision);
  if (c.mod_revision != null) n += sizeInt64Member(c.mod_revision);
  if (c.value != null) n += sizeBytesMember(c.value);
  if (c.lease != null) n += sizeInt64Member(c.lease);
  const rangeEnd = sizeBytes(c.range_end);
  return rangeEnd === 0 ? n : n + rangeEnd + 1;
}
function writeCompare(c: Compare__Output): void {
  writeInt64(1, enumValue(COMPARE_RESULTS, c.result));
  writeInt64(2, enumValue(COMPARE_TARGETS, c.target));
  writeBytes(3, c.key);
  if (c.version != null) writeInt64Member(4, c.version);
  if (c.create_revision != null) writeInt64Member(5, c.create_revision);
  if (c.mod_revision != null) writeInt64Member(6, c.mod_revision);
  if (c.value != null) writeBytesMember(7, c.value);
  if (c.lease != null) writeInt64Member(8, c.lease);
  writeBytes(RANGE_END_FIELD, c.range_end);
}

function sizeOp(op: RequestOp__Output): number {
  let n = 0;
  if (op.request_range != null) n += sizeMessage(op.request_range, sizeRange);
  if (op.request_put != null) n += sizeMessage(op.request_put, sizePut);
  if (op.request_delete_range != null) n += sizeMessage(op.request_delete_range, sizeDelete);
  if (op.request_txn != null) n += sizeMessage(op.request_txn, sizeTxn);
  return n;
}
function writeOp(op: RequestOp__Output): void {
  if (op.request_range != null) writeMessage(1, op.request_range, writeRange);
  if (op.request_put != null) writeMessage(2, op.request_put, writePut);
  if (op.request_delete_range != null) writeMessage(3, op.request_delete_range, writeDelete);
  if (op.request_txn != null) writeMessage(4, op.request_txn, writeTxn);
}

function sizeTxn(m: Partial<TxnRequest__Output>): number {
  let n = 0;
  for (const c of m.compare ?? []) n += sizeMessage(c, sizeCompare);
  for (const op of m.success ?? []) n += sizeMessage(op, sizeOp);
  for (const op of m.failure ?? []) n += sizeMessage(op, sizeOp);
  return n;
}
function writeTxn(m: Partial<TxnRequest__Output>): void {
  for (const c of m.compare ?? []) writeMessage(1, c, writeCompare);
  for (const op of m.success ?? []) writeMessage(2, op, writeOp);
  for (const op of m.failure ?? []) writeMessage(3, op, writeOp);
}

function sizeWrite(w: RaftWrite): number {
  const body = w.put != null ? sizeMessage(w.put, sizePut) : w.delete_range != null ? sizeMessage(w.delete_range, sizeDelete) : sizeMessage(w.txn ?? {}, sizeTxn);
  return body + sizeMessage(w.header, sizeHeader) + HEADER_TAG_EXTRA;
}
function writeWrite(w: RaftWrite): void {
  if (w.put != null) writeMessage(PUT, w.put, writePut);
  else if (w.delete_range != null) writeMessage(DELETE_RANGE, w.delete_range, writeDelete);
  else writeMessage(TXN, w.txn ?? {}, writeTxn);
  writeMessage(HEADER, w.header, writeHeader);
}

/** The entry data of a header and one write request. */
export const encodeRaftWrite = encoder(sizeWrite, writeWrite);

// ---- reading ----

const PUT_TAG = (PUT << 3) | 2;
const DELETE_RANGE_TAG = (DELETE_RANGE << 3) | 2;
const TXN_TAG = (TXN << 3) | 2;
const HEADER_TAG = (HEADER << 3) | 2;
const ID_TAG = 1 << 3;
const USERNAME_TAG = (2 << 3) | 2;
const AUTH_REVISION_TAG = 3 << 3;

/** A RequestHeader with every field at its default, as protobufjs's toObject gives an empty one. */
const newHeader = (): RaftHeader => ({ ID: '0', username: '', auth_revision: '0' });

function readHeader(end: number): RaftHeader | undefined {
  const h = newHeader();
  while (readingBefore(end)) {
    const t = readUint32();
    if (t === ID_TAG) h.ID = readUint64();
    else if (t === USERNAME_TAG) h.username = readString();
    else if (t === AUTH_REVISION_TAG) h.auth_revision = readUint64();
    else return undefined;
  }
  return h;
}

function readWrite(end: number): RaftWrite | undefined {
  let header: RaftHeader | undefined;
  let field = 0;
  let body: PutRequest__Output | DeleteRangeRequest__Output | TxnRequest__Output | undefined;
  while (readingBefore(end)) {
    const t = readUint32();
    if (t === HEADER_TAG) {
      header = readHeader(messageEnd());
      if (header === undefined) return undefined;
      continue;
    }
    const f = t === PUT_TAG ? PUT : t === DELETE_RANGE_TAG ? DELETE_RANGE : t === TXN_TAG ? TXN : 0;
    if (f === 0 || (field !== 0 && field !== f)) return undefined;
    field = f;
    body = f === PUT ? readPut(messageEnd()) : f === DELETE_RANGE ? readDelete(messageEnd()) : readTxn(messageEnd());
  }
  header ??= newHeader(); // none on the wire (our encoder always writes one)
  if (field === PUT) return { header, put: body as PutRequest__Output };
  if (field === DELETE_RANGE) return { header, delete_range: body as DeleteRangeRequest__Output };
  if (field === TXN) return { header, txn: body as TxnRequest__Output };
  return undefined;
}

const read = decoder(readWrite);

/** The header and write request in `data`, or undefined when it holds anything else (see above). */
export function decodeRaftWrite(data: Uint8Array): RaftWrite | undefined {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    return read(b);
  } catch {
    return undefined;
  }
}

// ---- gogoproto's decision: is it an InternalRaftRequest? ----

/** InternalRaftRequest's fields that hold a message (wire type 2): v2 ... lease_checkpoint, header, auth. */
const MESSAGE_FIELDS = new Set([
  2, 3, 4, 5, 6, 7, 8, 9, 10, 11, HEADER, 1000, 1011, 1012,
  1100, 1101, 1102, 1103, 1104, 1105, 1106, 1107, 1200, 1201, 1202, 1203, 1204,
]);
const V2 = 2;

/** Where an InternalRaftRequest's v2 field (an etcdserverpb.Request) is, when it has one. */
export interface InternalRaftRequestScan {
  v2?: { start: number; end: number };
}

/** RequestHeader{ID=1 uint64, username=2 string, auth_revision=3 uint64} as gogoproto reads it. */
function checkHeader(data: Uint8Array, start: number, end: number): void {
  const r = new GogoReader(data, end);
  r.pos = start;
  while (r.pos < end) {
    const keyStart = r.pos;
    const [field, wireType] = r.key('RequestHeader');
    if (field === 1 || field === 3) {
      r.expectWireType(wireType, 0, field === 1 ? 'ID' : 'AuthRevision');
      r.varintHalves();
    } else if (field === 2) {
      r.expectWireType(wireType, 2, 'Username');
      const n = r.length(); // (not `r.pos += r.length()`: that adds to the position before the length's varint)
      r.pos += n;
    } else r.skipField(keyStart);
  }
}

/**
 * What etcd's InternalRaftRequest.Unmarshal decides about `data`: undefined where it refuses it (etcd
 * then reads the entry as a bare Request), else where its v2 field is. Checked as gogoproto checks:
 * every key, the wire type of every known field, every length, unknown fields skipped; of the nested
 * messages, the v2 Request and the header are read through. A bare Request as etcd writes it is always
 * refused: its Dir (field 5) is a varint where InternalRaftRequest's field 5 (delete_range) is a message.
 */
export function scanInternalRaftRequest(data: Uint8Array): InternalRaftRequestScan | undefined {
  return unlessRefused(() => scan(data));
}

/**
 * The top level first, then the nested messages: gogoproto reads them in one pass and stops at the
 * first refusal, but whether anything is refused does not depend on the order, and a bare Request is
 * then refused at its Dir without reading its Method as a Request.
 */
function scan(data: Uint8Array): InternalRaftRequestScan {
  const r = new GogoReader(data);
  const found: InternalRaftRequestScan = {};
  let headers: number[] | undefined;
  while (r.pos < data.length) {
    const keyStart = r.pos;
    const [field, wireType] = r.key('InternalRaftRequest');
    if (field === 1) {
      r.expectWireType(wireType, 0, 'ID');
      r.varintHalves();
    } else if (MESSAGE_FIELDS.has(field)) {
      r.expectWireType(wireType, 2, String(field));
      const n = r.length();
      if (field === V2) found.v2 = { start: r.pos, end: r.pos + n };
      else if (field === HEADER) (headers ??= []).push(r.pos, r.pos + n);
      r.pos += n;
    } else r.skipField(keyStart);
  }
  if (headers) for (let i = 0; i < headers.length; i += 2) checkHeader(data, headers[i]!, headers[i + 1]!);
  if (found.v2) readRequest(data, found.v2.start, found.v2.end);
  return found;
}
