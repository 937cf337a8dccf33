/*
 * Raft entry data, exactly as etcd 3.4 writes and reads it (etcd's applyEntryNormal), so that members of
 * ours and of etcd share one log:
 *  - a v3 request is an etcdserverpb.InternalRaftRequest (proto/raft_internal.proto): the request ID in
 *    its header (field 100), the v3 request in its field (put=4, txn=6, lease_grant=8, ...). A header and
 *    one put, delete_range or txn (every client write) is written and read by codec/raft-request.ts;
 *    everything else by protobufjs, without the zero values Go leaves out. Either way the bytes are
 *    etcd's Marshal, so their length is what --max-request-bytes limits.
 *  - a v2 request (/v2/keys writes, quorum reads, SYNC), a member's attribute publication and the
 *    cluster version are a bare etcdserverpb.Request (codec/v2-request.ts), its ID in field 1.
 * Reading: bytes InternalRaftRequest refuses (gogoproto's decision, codec/raft-request.ts's
 * scanInternalRaftRequest) are a bare Request; an InternalRaftRequest with a v2 field is that v2
 * request (etcd 3.4 writes none, but reads them). Requests travel in the object form the gRPC layer
 * hands us (proto-loader's keepCase / longs=String / enums=String / bytes=Buffer), so what apply sees
 * equals what the client sent.
 */
import protobuf from 'protobufjs';
import { decodeRaftWrite, encodeRaftWrite, scanInternalRaftRequest, type RaftWrite } from '../codec/raft-request.js';
import { decodeV2Request, newV2Request, readV2Request, type V2Request } from '../codec/v2-request.js';
import { encodeMemberAttributes, idToHex } from '../membership/index.js';
import { encodeWithoutZeros } from '../pkg/proto3-zeros.js';
import { protoDir } from '../platform/proto-dir.js';
import type { AlarmRequest__Output } from '../pb/etcdserverpb/AlarmRequest.js';
import type { CompactionRequest__Output } from '../pb/etcdserverpb/CompactionRequest.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { LeaseCheckpointRequest__Output } from '../pb/etcdserverpb/LeaseCheckpointRequest.js';
import type { LeaseGrantRequest__Output } from '../pb/etcdserverpb/LeaseGrantRequest.js';
import type { LeaseRevokeRequest__Output } from '../pb/etcdserverpb/LeaseRevokeRequest.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';

export { encodeV2Request, newV2Request, type V2Request } from '../codec/v2-request.js';

/** etcd's auth requests (fields 1000-1204): declared for the layout, decoded, never applied yet. */
type AuthRequests = { [K in `auth_${string}` | 'authenticate']?: Record<string, unknown> | null };

export interface InternalRaftRequest extends AuthRequests {
  header: { ID: string; username?: string; auth_revision?: string };
  /** The request id of older etcd versions (etcd 3.4 reads it first when not 0, and never writes it). */
  ID?: string;
  /** Read, never written: etcd 3.4 proposes v2 requests bare. */
  v2?: V2Request | null;
  range?: RangeRequest__Output | null;
  put?: PutRequest__Output | null;
  delete_range?: DeleteRangeRequest__Output | null;
  txn?: TxnRequest__Output | null;
  compaction?: CompactionRequest__Output | null;
  lease_grant?: LeaseGrantRequest__Output | null;
  lease_revoke?: LeaseRevokeRequest__Output | null;
  alarm?: AlarmRequest__Output | null;
  lease_checkpoint?: LeaseCheckpointRequest__Output | null;
}

/** One entry's request as apply sees it, with the id whose waiter it triggers. */
export type EntryRequest = { kind: 'v3'; id: bigint; req: InternalRaftRequest } | { kind: 'v2'; id: bigint; req: V2Request };


function loadType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${protoDir}${target.replace(/^.*\//, '')}`;
  root.loadSync('raft_internal.proto', { keepCase: true });
  root.resolveAll();
  return root.lookupType('etcdserverpb.InternalRaftRequest');
}

/**
 * The request type and its auth fields, loaded at first use: parsing raft_internal.proto and the
 * files it imports takes ~30 ms of CPU, and a restart whose log holds only hot writes (or none
 * after the snapshot) needs none of it before it serves.
 */
let loaded: { type: protobuf.Type; authFields: (keyof AuthRequests)[] } | undefined;
function requestType(): { type: protobuf.Type; authFields: (keyof AuthRequests)[] } {
  if (loaded === undefined) {
    const type = loadType();
    loaded = { type, authFields: type.fieldsArray.filter((f) => f.id >= 1000).map((f) => f.name as keyof AuthRequests) };
  }
  return loaded;
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
};

/** The sub-requests codec/raft-request.ts writes and reads by hand. */
const HOT_WRITES = new Set(['put', 'delete_range', 'txn']);

/** `req` as a RaftWrite when it is a header and one hot write and nothing else, else undefined. */
function hotWrite(req: InternalRaftRequest): RaftWrite | undefined {
  let found: string | undefined;
  for (const k in req) {
    if (k === 'header' || req[k as keyof InternalRaftRequest] == null) continue;
    if (found !== undefined || !HOT_WRITES.has(k)) return undefined;
    found = k;
  }
  return found === undefined ? undefined : (req as RaftWrite);
}

/** The entry data of a v3 request: etcd's Marshal of the InternalRaftRequest. */
export function encodeRequest(req: InternalRaftRequest): Uint8Array {
  if (req.v2 != null) throw new Error('internal-request: a v2 request is proposed bare (encodeV2Request), as etcd 3.4 does');
  const w = hotWrite(req);
  if (w !== undefined) return encodeRaftWrite(w);
  return encodeWithoutZeros(requestType().type, req);
}

/** The request in an entry's data, as etcd's applyEntryNormal reads it; throws where etcd panics. */
export function decodeEntry(data: Uint8Array): EntryRequest {
  const w = decodeRaftWrite(data);
  if (w !== undefined) return { kind: 'v3', id: BigInt(w.header.ID), req: fullRequest(w) };
  const scan = scanInternalRaftRequest(data);
  if (scan === undefined) {
    const req = decodeV2Request(data);
    return { kind: 'v2', id: req.ID, req };
  }
  if (scan.v2 !== undefined) {
    const req = readV2Request(data, scan.v2.start, scan.v2.end);
    return { kind: 'v2', id: req.ID, req };
  }
  // defaults: true gives absent sub-requests as null and present ones with every field filled; the
  // auth requests are left off when absent, so the object has the shape a hot write's has.
  // a Buffer view, so that protobufjs reads bytes fields as Buffers (from a plain Uint8Array, such as
  // a raft message's or a WAL record's entry data, it gives Uint8Arrays, which mvcc cannot take)
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const { type, authFields } = requestType();
  const obj = type.toObject(type.decode(buf), TO_OBJECT) as InternalRaftRequest;
  for (const k of authFields) if (obj[k] === null) delete obj[k];
  obj.header ??= { ID: '0', username: '', auth_revision: '0' };
  const id = obj.ID !== undefined && obj.ID !== '0' ? obj.ID : obj.header.ID;
  return { kind: 'v3', id: BigInt(id), req: obj };
}

/** A hot write in the shape protobufjs's toObject gives it (every field, absent ones null, in field order). */
function fullRequest(w: RaftWrite): InternalRaftRequest {
  return {
    ID: '0',
    v2: null,
    range: null,
    put: w.put ?? null,
    delete_range: w.delete_range ?? null,
    txn: w.txn ?? null,
    compaction: null,
    lease_grant: null,
    lease_revoke: null,
    alarm: null,
    lease_checkpoint: null,
    header: w.header as InternalRaftRequest['header'],
  };
}

/**
 * True when the entry is an InternalRaftRequest without a v2 request, told from the top-level fields
 * without decoding the requests: a replayed entry at or below the backend's consistent index then
 * needs no decoding at all (a restart replays up to --snapshot-count of them). A bare Request (v2
 * store, the member mirror) is false: it applies on every replay.
 */
export function onlyBackendState(data: Uint8Array): boolean {
  const scan = scanInternalRaftRequest(data);
  return scan !== undefined && scan.v2 === undefined;
}

// ---- the bare Requests a member proposes of itself (its ID is set when proposed) ----

/** etcd's publish: the member's name and client URLs, PUT to /0/members/<hex id>/attributes. */
export function publishRequest(memberId: bigint, attributes: { name: string; clientURLs: readonly string[] }): V2Request {
  return newV2Request({ Method: 'PUT', Path: `/0/members/${idToHex(memberId)}/attributes`, Val: encodeMemberAttributes(attributes) });
}

/** etcd's updateClusterVersion: PUT /0/version. */
export function clusterVersionRequest(version: string): V2Request {
  return newV2Request({ Method: 'PUT', Path: '/0/version', Val: version });
}

/** etcd's sync: the leader's clock, for v2 TTL expiry. */
export function syncRequest(nowMs: number): V2Request {
  return newV2Request({ Method: 'SYNC', Time: BigInt(Math.floor(nowMs)) * 1_000_000n });
}

/** etcd's /health: a quorum read of "" (the v2 root). */
export function healthRequest(): V2Request {
  return newV2Request({ Method: 'QGET' });
}
