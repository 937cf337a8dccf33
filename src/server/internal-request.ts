/*
 * Encoding of the replicated request (proto/internal.proto) into raft entry data and back. Requests
 * travel in the same object form the gRPC layer hands us (proto-loader's keepCase / longs=String /
 * enums=String / bytes=Buffer), so what apply sees equals what the client sent. A header and one put,
 * delete_range or txn (every client write) is written and read by codec/raft-request.ts, to the
 * same object; everything else by protobufjs.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { decodeRaftWrite, encodeRaftWrite, type RaftWrite } from '../codec/raft-request.js';
import { encodeWithoutZeros } from '../pkg/proto3-zeros.js';
import type { AlarmRequest__Output } from '../pb/etcdserverpb/AlarmRequest.js';
import type { CompactionRequest__Output } from '../pb/etcdserverpb/CompactionRequest.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { LeaseCheckpointRequest__Output } from '../pb/etcdserverpb/LeaseCheckpointRequest.js';
import type { LeaseGrantRequest__Output } from '../pb/etcdserverpb/LeaseGrantRequest.js';
import type { LeaseRevokeRequest__Output } from '../pb/etcdserverpb/LeaseRevokeRequest.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';

export interface V2Request {
  method: string;
  path: string;
  val: string;
  dir: boolean;
  prev_value: string;
  prev_index: string;
  has_prev_exist: boolean;
  prev_exist: boolean;
  expiration_ms: string;
  recursive: boolean;
  sorted: boolean;
  refresh: boolean;
  unique: boolean;
  time_ms: string;
  no_value_on_success: boolean;
}

export interface InternalRaftRequest {
  header: { ID: string; username?: string; auth_revision?: string };
  v2?: Partial<V2Request> | null;
  range?: RangeRequest__Output | null;
  put?: PutRequest__Output | null;
  delete_range?: DeleteRangeRequest__Output | null;
  txn?: TxnRequest__Output | null;
  compaction?: CompactionRequest__Output | null;
  lease_grant?: LeaseGrantRequest__Output | null;
  lease_revoke?: LeaseRevokeRequest__Output | null;
  alarm?: AlarmRequest__Output | null;
  lease_checkpoint?: LeaseCheckpointRequest__Output | null;
  member_attributes?: { member_id: string; name: string; client_urls: string[] } | null;
  cluster_version?: { version: string } | null;
}

const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));

function loadType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${protoDir}${target.replace(/^.*\//, '')}`;
  root.loadSync('internal.proto', { keepCase: true });
  root.resolveAll();
  return root.lookupType('etcdts.internal.InternalRaftRequest');
}

const requestType = loadType();

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

export function encodeRequest(req: InternalRaftRequest): Uint8Array {
  const w = hotWrite(req);
  if (w !== undefined) return encodeRaftWrite(w);
  return requestType.encode(requestType.fromObject(req)).finish();
}

/**
 * The length etcd's Marshal gives `req`: what --max-request-bytes limits. encodeRequest's length
 * bounds it from above: protobufjs writes the zeros the request objects carry, and
 * codec/raft-request.ts writes what Marshal writes.
 */
export function marshalledSize(req: InternalRaftRequest): number {
  return encodeWithoutZeros(requestType, req).length;
}

export function decodeRequest(data: Uint8Array): InternalRaftRequest {
  const w = decodeRaftWrite(data);
  if (w !== undefined) return fullRequest(w);
  // defaults: true gives absent sub-requests as null and present ones with every field filled.
  const obj = requestType.toObject(requestType.decode(data), TO_OBJECT) as InternalRaftRequest;
  obj.header ??= { ID: '0' };
  return obj;
}

/** A hot write in the shape protobufjs's toObject gives it (every field, absent ones null, in field order). */
function fullRequest(w: RaftWrite): InternalRaftRequest {
  return {
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
    member_attributes: null,
    cluster_version: null,
    header: w.header as InternalRaftRequest['header'],
  };
}

/** InternalRaftRequest fields whose state lives outside the backend (the v2 store, the v2 member mirror). */
const NON_BACKEND_FIELDS = new Set([2 /* v2 */, 20 /* member_attributes */, 21 /* cluster_version */]);

/**
 * True when the encoded request holds none of NON_BACKEND_FIELDS, read from the top-level field tags
 * without decoding anything: a replayed entry at or below the backend's consistent index then needs
 * no decoding at all (a restart replays up to --snapshot-count of them). False when unsure (an
 * unexpected wire type or a malformed tag): the caller decodes.
 */
export function onlyBackendState(data: Uint8Array): boolean {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= data.length) return -1;
      const b = data[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    return -1;
  };
  while (pos < data.length) {
    const tag = varint();
    if (tag < 0 || NON_BACKEND_FIELDS.has(Math.floor(tag / 8))) return false;
    const wireType = tag & 7;
    if (wireType === 0) {
      if (varint() < 0 && !skipLongVarint()) return false;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const n = varint();
      if (n < 0) return false;
      pos += n;
    } else return false;
  }
  return pos === data.length;

  /** A varint longer than 5 bytes (a 64-bit value): skip it. */
  function skipLongVarint(): boolean {
    while (pos < data.length) if (data[pos++]! < 0x80) return true;
    return false;
  }
}
