/*
 * Encoding of the replicated request (proto/internal.proto) into raft entry data and back. Requests
 * travel in the same object form the gRPC layer hands us (proto-loader's keepCase / longs=String /
 * enums=String / bytes=Buffer), so what apply sees equals what the client sent.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
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

export function encodeRequest(req: InternalRaftRequest): Uint8Array {
  return requestType.encode(requestType.fromObject(req)).finish();
}

export function decodeRequest(data: Uint8Array): InternalRaftRequest {
  // defaults: true gives absent sub-requests as null and present ones with every field filled.
  const obj = requestType.toObject(requestType.decode(data), TO_OBJECT) as InternalRaftRequest;
  obj.header ??= { ID: '0' };
  return obj;
}
