/** createGrpcServer: all v3 services of an etcd 3.4 member on one grpc-js Server. */
import * as grpc from '@grpc/grpc-js';
import type { EtcdServerFacade } from '../../server/facade.js';
import type { EtcdMetrics } from '../../pkg/metrics.js';
import { type ApiLimits, GRPC_OVERHEAD_BYTES, GRPC_REFUSED, OVERSIZED } from './common.js';
import { counted } from './counted.js';
import { etcdGrpc } from './proto.js';
import { kvHandlers } from './kv.js';
import { withKvCodecs } from './kv-codec.js';
import { withLeaseCodecs, withWatchCodecs } from './watch-lease-codec.js';
import { omitZeros } from './zero-omit.js';
import { watchHandlers } from './watch.js';
import { leaseHandlers } from './lease.js';
import { clusterHandlers, maintenanceHandlers } from './maintenance.js';
import { authHandlers } from './auth.js';
import { electionHandlers, healthHandlers, lockHandlers } from './lock-election.js';
import { UnaryPath } from './unary-path.js';

/** etcd's --max-request-bytes default (1.5 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** etcd's --max-txn-ops default. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** etcd lets gRPC receive this much beyond --max-request-bytes, so oversize gets etcd's own error. */
export { GRPC_OVERHEAD_BYTES };

export interface GrpcServerOptions {
  /** --max-request-bytes (default 1.5 MiB). */
  readonly maxRequestBytes?: number;
  /** --max-txn-ops (default 128). */
  readonly maxTxnOps?: number;
  /** --grpc-keepalive-interval in ms (default 2 h). */
  readonly keepaliveIntervalMs?: number;
  /** --grpc-keepalive-timeout in ms (default 20 s). */
  readonly keepaliveTimeoutMs?: number;
  /** Extra grpc-js channel options, merged last. */
  readonly grpcOptions?: grpc.ServerOptions;
  /** The member's metrics: every RPC is counted in grpc_server_* when given. */
  readonly metrics?: EtcdMetrics;
}

/** Full gRPC service names of the services outside etcdserverpb (metric labels). */
const SERVICE_NAMES: Record<string, string> = { Lock: 'v3lockpb.Lock', Election: 'v3electionpb.Election', Health: 'grpc.health.v1.Health' };

/** Methods whose requests etcd sends through raft: refused with "request is too large" over the limit. */
const RAFT_BOUND: Record<string, readonly string[] | 'all'> = {
  KV: ['Put', 'DeleteRange', 'Txn', 'Compact'],
  Lease: ['LeaseGrant', 'LeaseRevoke'],
  Maintenance: ['Alarm'],
  Auth: 'all',
};

/** Services whose unary calls take the short path (unary-path.ts): handlers that only read the request and its token. */
const SHORT_PATH_SERVICES: readonly string[] = ['KV', 'Lease'];

type AnyMethod = grpc.MethodDefinition<object, object>;
type Tagged = { [OVERSIZED]?: true; [GRPC_REFUSED]?: string };

/**
 * The service definition with request decoders that tag oversized requests: beyond the gRPC
 * receive limit (any method), or beyond max-request-bytes (raft-bound methods only).
 */
function guarded(name: string, def: grpc.ServiceDefinition, maxRequestBytes: number): grpc.ServiceDefinition {
  const bound = RAFT_BOUND[name];
  const grpcMax = maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const out: Record<string, AnyMethod> = {};
  for (const [method, md] of Object.entries(def) as [string, AnyMethod][]) {
    const raftBound = bound === 'all' || (bound !== undefined && bound.includes(method));
    const decode = md.requestDeserialize;
    out[method] = {
      ...md,
      requestDeserialize: (buf: Buffer) => {
        const req = decode(buf) as Tagged;
        if (buf.length > maxRequestBytes) {
          if (buf.length > grpcMax) req[GRPC_REFUSED] = `grpc: received message larger than max (${buf.length} vs. ${grpcMax})`;
          else if (raftBound) req[OVERSIZED] = true;
        }
        return req;
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/**
 * A grpc-js Server serving KV, Watch, Lease, Cluster, Maintenance, Auth, v3lockpb.Lock,
 * v3electionpb.Election and grpc.health.v1.Health over `facade`. Not bound: the caller either
 * `bindAsync`s it (tests) or feeds it sockets through `createConnectionInjector` (client port mux).
 */
export function createGrpcServer(facade: EtcdServerFacade, opts: GrpcServerOptions = {}): grpc.Server {
  const limits: ApiLimits = {
    maxRequestBytes: opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    maxTxnOps: opts.maxTxnOps ?? DEFAULT_MAX_TXN_OPS,
  };
  // etcd's limit (max-request-bytes + 512 KiB) is enforced by the decoders above, with Go's text;
  // grpc-js refuses only beyond twice that, as a memory guard.
  const maxReceive = 2 * (limits.maxRequestBytes + GRPC_OVERHEAD_BYTES);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxReceive,
    'grpc.max_send_message_length': -1,
    // channelz bookkeeping costs ~1% of a range's CPU (profiled) and nobody reads it.
    'grpc.enable_channelz': 0,
    'grpc.keepalive_time_ms': opts.keepaliveIntervalMs ?? 2 * 60 * 60 * 1000,
    'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs ?? 20_000,
    ...opts.grpcOptions,
  });
  const pb = etcdGrpc();
  const e = pb.etcdserverpb;
  const unaryPath = new UnaryPath(maxReceive);
  const add = (name: string, def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void => {
    const full = SERVICE_NAMES[name] ?? `etcdserverpb.${name}`;
    const d = guarded(name, def, limits.maxRequestBytes);
    const i = opts.metrics ? counted(opts.metrics, full, def, impl) : impl;
    server.addService(d, i);
    if (SHORT_PATH_SERVICES.includes(name)) unaryPath.addService(d, i);
  };
  // omitZeros: proto3 zero values stay off the wire, as etcd sends them (the hand codecs do the same)
  add('KV', withKvCodecs(omitZeros(e.KV.service)), kvHandlers(facade, limits));
  add('Watch', withWatchCodecs(e.Watch.service), watchHandlers(facade, limits));
  add('Lease', withLeaseCodecs(omitZeros(e.Lease.service)), leaseHandlers(facade));
  add('Cluster', omitZeros(e.Cluster.service), clusterHandlers(facade));
  add('Maintenance', omitZeros(e.Maintenance.service), maintenanceHandlers(facade));
  add('Auth', omitZeros(e.Auth.service), authHandlers(facade));
  add('Lock', omitZeros(pb.v3lockpb.Lock.service), lockHandlers(facade));
  add('Election', omitZeros(pb.v3electionpb.Election.service), electionHandlers(facade));
  add('Health', omitZeros(pb.grpc.health.v1.Health.service), healthHandlers(facade));
  unaryPath.install(server);
  return server;
}
