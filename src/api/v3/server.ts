/** createGrpcServer / createH2Router: all v3 services of an etcd 3.4 member, on grpc-js or on the JavaScript HTTP/2. */
import * as grpc from '@grpc/grpc-js';
import type { EtcdServerFacade } from '../../server/facade.js';
import type { EtcdMetrics } from '../../pkg/metrics.js';
import { type ApiLimits, GRPC_OVERHEAD_BYTES, GRPC_REFUSED, OVERSIZED, type Refusal, grpcRefusal, refusedRequest } from './common.js';
import { learnerGate } from './learner.js';
import { counted, countingBytes } from './counted.js';
import { GogoRules } from './gogo-check.js';
import { etcdGrpc, packageDefinition } from './proto.js';
import { kvHandlers } from './kv.js';
import { withKvCodecs } from './kv-codec.js';
import { withLeaseCodecs, withWatchCodecs } from './watch-lease-codec.js';
import { omitZeros } from './zero-omit.js';
import { watchHandlers } from './watch.js';
import { leaseHandlers } from './lease.js';
import { clusterHandlers, maintenanceHandlers, withSnapshotCodec } from './maintenance.js';
import { authHandlers } from './auth.js';
import { electionHandlers, healthHandlers, lockHandlers } from './lock-election.js';
import { UnaryPath } from './unary-path.js';
import { H2GrpcRouter } from './h2-grpc.js';

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
/** Bidi streams that take the short path (stream-call.ts), by service. */
const SHORT_PATH_STREAMS: Record<string, readonly string[]> = { Watch: ['Watch'], Lease: ['LeaseKeepAlive'] };

type AnyMethod = grpc.MethodDefinition<object, object> & { requestType?: { type?: { name?: string } } };

type Tagged = { [OVERSIZED]?: true; [GRPC_REFUSED]?: Refusal };

/**
 * The service definition with request decoders that refuse what etcd's decoder refuses, in
 * grpc-go's words (gogo-check.ts), and tag oversized requests: beyond the gRPC receive limit (any
 * method; grpc-receive.ts refuses them first), or beyond max-request-bytes (raft-bound methods only).
 */
function guarded(service: string, name: string, def: grpc.ServiceDefinition, maxRequestBytes: number, rules: GogoRules): grpc.ServiceDefinition {
  const bound = RAFT_BOUND[name];
  const grpcMax = maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const pkg = service.slice(0, service.lastIndexOf('.'));
  const out: Record<string, AnyMethod> = {};
  for (const [method, md] of Object.entries(def) as [string, AnyMethod][]) {
    const raftBound = bound === 'all' || (bound !== undefined && bound.includes(method));
    const decode = md.requestDeserialize;
    const check = rules.checker(`${pkg}.${md.requestType?.type?.name ?? ''}`);
    // grpc-go's texts: a unary call's decoding, and a stream's RecvMsg
    const unmarshal = md.requestStream || md.responseStream ? 'grpc: failed to unmarshal the received message ' : 'grpc: error unmarshalling request: ';
    out[method] = {
      ...md,
      requestDeserialize: (buf: Buffer) => {
        const bad = check(buf);
        if (bad !== undefined) return refusedRequest(grpc.status.INTERNAL, unmarshal + bad);
        let req: Tagged;
        try {
          req = decode(buf) as Tagged;
        } catch (e) {
          return refusedRequest(grpc.status.INTERNAL, unmarshal + (e as Error).message);
        }
        if (buf.length > maxRequestBytes) {
          if (buf.length > grpcMax) return refusedRequest(grpc.status.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${buf.length} vs. ${grpcMax})`);
          if (raftBound) req[OVERSIZED] = true;
        }
        return req;
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/**
 * A refused request (see guarded) is answered before the handler, as grpc-go refuses it before
 * etcd's code (and its metrics interceptor) runs. Bidi streams (Watch, LeaseKeepAlive) check each
 * request themselves.
 */
function refusing(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...impl };
  for (const [method, md] of Object.entries(def) as [string, AnyMethod][]) {
    const h = impl[method] as ((call: { request: object; emit(e: 'error', err: unknown): boolean }, cb?: (err: unknown) => void) => void) | undefined;
    if (h === undefined || md.requestStream) continue;
    out[method] = ((call: { request: object; emit(e: 'error', err: unknown): boolean }, cb?: (err: unknown) => void) => {
      const refused = grpcRefusal(call.request);
      if (refused === undefined) h(call, cb);
      else if (cb !== undefined) cb(refused);
      else call.emit('error', refused);
    }) as grpc.UntypedHandleCall;
  }
  return out;
}

/**
 * A grpc-js Server serving KV, Watch, Lease, Cluster, Maintenance, Auth, v3lockpb.Lock,
 * v3electionpb.Election and grpc.health.v1.Health over `facade`. Not bound: the caller either
 * `bindAsync`s it (tests) or feeds it sockets through `createConnectionInjector` (client port mux,
 * ETCD_TS_HTTP2=node).
 */
export function createGrpcServer(facade: EtcdServerFacade, opts: GrpcServerOptions = {}): grpc.Server {
  const limits = limitsOf(opts);
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
  // the short path and, in front of grpc-js, its receive checks refuse at etcd's limit, in grpc-go's words
  const unaryPath = new UnaryPath(limits.maxRequestBytes + GRPC_OVERHEAD_BYTES);
  addServices(facade, limits, opts.metrics, (name, def, impl) => {
    server.addService(def, impl);
    unaryPath.addService(def, impl, SHORT_PATH_SERVICES.includes(name), SHORT_PATH_STREAMS[name]);
  });
  unaryPath.install(server);
  return server;
}

/**
 * The same services for the JavaScript HTTP/2 alone (the client port's default): no grpc-js Server,
 * short path or connection injector is built.
 */
export function createH2Router(facade: EtcdServerFacade, opts: GrpcServerOptions = {}): H2GrpcRouter {
  const limits = limitsOf(opts);
  const h2Router = new H2GrpcRouter(limits.maxRequestBytes + GRPC_OVERHEAD_BYTES);
  addServices(facade, limits, opts.metrics, (_name, def, impl) => h2Router.addService(def, impl));
  return h2Router;
}

function limitsOf(opts: GrpcServerOptions): ApiLimits {
  return { maxRequestBytes: opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES, maxTxnOps: opts.maxTxnOps ?? DEFAULT_MAX_TXN_OPS };
}

type ServiceSink = (name: string, def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) => void;

/** Every service's guarded definition and refusing, counted, learner-gated handlers, handed to `sink`. */
function addServices(facade: EtcdServerFacade, limits: ApiLimits, metrics: EtcdMetrics | undefined, sink: ServiceSink): void {
  const pb = etcdGrpc();
  const e = pb.etcdserverpb;
  const rules = new GogoRules(packageDefinition());
  const add = (name: string, def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void => {
    const full = SERVICE_NAMES[name] ?? `etcdserverpb.${name}`;
    const g = guarded(full, name, def, limits.maxRequestBytes, rules);
    const d = metrics ? countingBytes(metrics, g) : g;
    const gated = learnerGate(name, def, impl, () => facade.isLearner?.() === true);
    sink(name, d, refusing(def, metrics ? counted(metrics, full, def, gated) : gated));
  };
  // omitZeros: proto3 zero values stay off the wire, as etcd sends them (the hand codecs do the same)
  add('KV', withKvCodecs(omitZeros(e.KV.service)), kvHandlers(facade, limits));
  add('Watch', withWatchCodecs(e.Watch.service), watchHandlers(facade, limits));
  add('Lease', withLeaseCodecs(omitZeros(e.Lease.service)), leaseHandlers(facade));
  add('Cluster', omitZeros(e.Cluster.service), clusterHandlers(facade));
  add('Maintenance', withSnapshotCodec(omitZeros(e.Maintenance.service)), maintenanceHandlers(facade));
  add('Auth', omitZeros(e.Auth.service), authHandlers(facade));
  add('Lock', omitZeros(pb.v3lockpb.Lock.service), lockHandlers(facade));
  add('Election', omitZeros(pb.v3electionpb.Election.service), electionHandlers(facade));
  add('Health', omitZeros(pb.grpc.health.v1.Health.service), healthHandlers(facade));
}
