// Request size limits as a gateway client of etcd meets them. etcd's gateway re-encodes the JSON
// request as protobuf and calls the gRPC server, so the limits apply to the protobuf size:
//   > max-request-bytes + 512 KiB (any method): gRPC refuses, ResourceExhausted, Go grpc's text;
//   > max-request-bytes (methods that go through raft): "etcdserver: request is too large".
// (The same rules as src/api/v3/server.ts; a read-only txn is served like a range and exempt.)
import type { PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import type { EtcdErrorCode } from '../../server/facade.js';
import type { TxnRequest__Output } from '../../pb/etcdserverpb/TxnRequest.js';
import type { RequestOp__Output } from '../../pb/etcdserverpb/RequestOp.js';
import type { UnaryRoute } from './gateway-routes.js';

/** gRPC's receive limit on top of max-request-bytes (etcd's grpcOverheadBytes). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

const RAFT_BOUND: Record<string, readonly string[] | 'all'> = {
  'etcdserverpb.KV': ['Put', 'DeleteRange', 'Txn', 'Compact'],
  'etcdserverpb.Lease': ['LeaseGrant', 'LeaseRevoke'],
  'etcdserverpb.Maintenance': ['Alarm'],
  'etcdserverpb.Auth': 'all',
};

export type SizeRefusal = { readonly grpcMessage: string } | { readonly code: EtcdErrorCode };

function isTxnReadOnly(ops: readonly RequestOp__Output[]): boolean {
  return ops.every((op) =>
    op.request === 'request_range' ||
    (op.request === 'request_txn' && isTxnReadOnly(op.request_txn!.success) && isTxnReadOnly(op.request_txn!.failure)));
}

/**
 * `bodyBytes` (the JSON text's size) bounds the protobuf size from above, so requests whose body
 * is within the limit are never re-encoded. `wire` is the request without its default values
 * (what Go puts on the wire; protobufjs would also encode fields explicitly set to zero).
 */
export function sizeRefusal(
  pkg: PackageDefinition, route: UnaryRoute, req: object, wire: () => object, bodyBytes: number, maxRequestBytes: number,
): SizeRefusal | undefined {
  if (bodyBytes <= maxRequestBytes) return undefined;
  const service = pkg[route.service] as ServiceDefinition | undefined;
  const size = service?.[route.method]?.requestSerialize(wire()).length ?? 0;
  if (size <= maxRequestBytes) return undefined;
  const grpcMax = maxRequestBytes + GRPC_OVERHEAD_BYTES;
  if (size > grpcMax) return { grpcMessage: `grpc: received message larger than max (${size} vs. ${grpcMax})` };
  const bound = RAFT_BOUND[route.service];
  if (bound === undefined || (bound !== 'all' && !bound.includes(route.method))) return undefined;
  if (route.method === 'Txn') {
    const t = req as TxnRequest__Output;
    if (isTxnReadOnly(t.success) && isTxnReadOnly(t.failure)) return undefined;
  }
  return { code: 'RequestTooLarge' };
}
