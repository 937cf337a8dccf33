// The Prometheus metrics of one member, under etcd 3.4's metric and label names so existing
// dashboards and alerts work unchanged. Definitions live here (pkg is a leaf) so that server/
// updates them and api/http only renders `registry.metrics()` at GET /metrics.
//
// One registry per member (never prom-client's global one), so several members or tests can live
// in one process. Help texts are our own words; names, types, label names and histogram buckets
// are etcd's (observed on etcd 3.4.23, see test/unit/api-http/observed-etcd.md):
//
//   etcd_server_has_leader 1
//   etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 37
//   grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 8
//
// Contract: the server sets the gauges and observes the histograms (seconds); both API rooms call
// countRpcStarted / countRpcHandled for every RPC, including the ones that arrive through the JSON
// gateway (etcd's gateway is a gRPC client of its own server, so its calls are counted there too).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

type RpcLabels = 'grpc_type' | 'grpc_service' | 'grpc_method';

export interface EtcdMetrics {
  readonly registry: Registry;
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly leaderChangesSeen: Counter;
  readonly proposalsCommitted: Gauge;
  readonly proposalsApplied: Gauge;
  readonly proposalsPending: Gauge;
  readonly proposalsFailed: Counter;
  readonly dbTotalSizeBytes: Gauge;
  readonly dbTotalSizeInUseBytes: Gauge;
  readonly walFsyncSeconds: Histogram;
  readonly backendCommitSeconds: Histogram;
  readonly healthSuccess: Counter;
  readonly healthFailures: Counter;
  readonly serverVersion: Gauge<'server_version'>;
  readonly serverId: Gauge<'server_id'>;
  readonly grpcStarted: Counter<RpcLabels>;
  readonly grpcHandled: Counter<RpcLabels | 'grpc_code'>;
  readonly grpcMsgReceived: Counter<RpcLabels>;
  readonly grpcMsgSent: Counter<RpcLabels>;
  readonly peerSentBytes: Counter<'To'>;
  readonly peerReceivedBytes: Counter<'From'>;
  readonly peerSentFailures: Counter<'To'>;
  readonly peerRoundTripSeconds: Histogram<'To'>;
  readonly activePeers: Gauge<'Local' | 'Remote'>;
}

/** gRPC status code numbers → the names etcd's grpc_code label uses. */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange',
  'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

/** etcd's disk latency buckets: 1ms doubling 14 times (last finite bucket 8.192s). */
export const DISK_LATENCY_BUCKETS_SECONDS: readonly number[] =
  Array.from({ length: 14 }, (_, k) => 0.001 * 2 ** k);

/** A labelled series of a counter that is bumped on a hot path (see tally). */
export interface Tally {
  inc(): void;
}

interface PendingTally<T extends string> {
  labels: Partial<Record<T, string | number>>;
  n: number;
  inc(): void;
}

const tallies = new WeakMap<Counter<string>, PendingTally<string>[]>();

/**
 * A series of `counter` counted in a plain number and added to the counter when it is read (a scrape):
 * prom-client hashes the labels on every increment, even of a child from labels(), which cost ~2% of a
 * gRPC call's CPU. The counter must be created with `collect: flushTallies`.
 */
export function tally<T extends string>(counter: Counter<T>, labels: Partial<Record<T, string | number>>): Tally {
  const t: PendingTally<T> = { labels, n: 0, inc() { this.n++; } };
  const list = tallies.get(counter as Counter<string>) ?? [];
  list.push(t as PendingTally<string>);
  tallies.set(counter as Counter<string>, list);
  return t;
}

/** prom-client's collect hook of a counter with tallies: adds what they counted since the last read. */
function flushTallies(this: Counter<string>): void {
  for (const t of tallies.get(this) ?? []) {
    if (t.n === 0) continue;
    this.inc(t.labels, t.n);
    t.n = 0;
  }
}

export function createMetrics(opts: { serverVersion?: string } = {}): EtcdMetrics {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  const histogram = (name: string, help: string) =>
    new Histogram({ name, help, registers, buckets: [...DISK_LATENCY_BUCKETS_SECONDS] });
  // Label names in etcd's (alphabetical) order, so series print as etcd prints them.
  const rpcLabels: RpcLabels[] = ['grpc_method', 'grpc_service', 'grpc_type'];
  const m: EtcdMetrics = {
    registry,
    hasLeader: gauge('etcd_server_has_leader', 'Set to 1 while this member knows a leader, 0 otherwise.'),
    isLeader: gauge('etcd_server_is_leader', 'Set to 1 while this member is the leader, 0 otherwise.'),
    leaderChangesSeen: counter('etcd_server_leader_changes_seen_total', 'How many times this member saw the leader change.'),
    proposalsCommitted: gauge('etcd_server_proposals_committed_total', 'Raft log index committed so far (proposals agreed by a quorum).'),
    proposalsApplied: gauge('etcd_server_proposals_applied_total', 'Raft log index applied to the state machine so far.'),
    proposalsPending: gauge('etcd_server_proposals_pending', 'Proposals submitted by this member and not yet applied.'),
    proposalsFailed: counter('etcd_server_proposals_failed_total', 'Proposals that failed (timed out, dropped or lost leadership).'),
    dbTotalSizeBytes: gauge('etcd_mvcc_db_total_size_in_bytes', 'Bytes taken on disk by the key-value backend.'),
    dbTotalSizeInUseBytes: gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Bytes of the key-value backend holding live data.'),
    walFsyncSeconds: histogram('etcd_disk_wal_fsync_duration_seconds', 'Time spent in each WAL fdatasync, in seconds.'),
    backendCommitSeconds: histogram('etcd_disk_backend_commit_duration_seconds', 'Time spent committing each backend write batch, in seconds.'),
    healthSuccess: counter('etcd_server_health_success', 'GET /health checks that found this member healthy.'),
    healthFailures: counter('etcd_server_health_failures', 'GET /health checks that found this member unhealthy.'),
    peerSentBytes: new Counter({ name: 'etcd_network_peer_sent_bytes_total', help: 'The total number of bytes sent to peers.', labelNames: ['To'], registers }),
    peerReceivedBytes: new Counter({ name: 'etcd_network_peer_received_bytes_total', help: 'The total number of bytes received from peers.', labelNames: ['From'], registers }),
    peerSentFailures: new Counter({ name: 'etcd_network_peer_sent_failures_total', help: 'The total number of send failures to peers.', labelNames: ['To'], registers }),
    peerRoundTripSeconds: new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds', help: 'Round-Trip-Time histogram between peers', labelNames: ['To'], registers,
      buckets: Array.from({ length: 16 }, (_, k) => 0.0001 * 2 ** k),
    }),
    activePeers: new Gauge({ name: 'etcd_network_active_peers', help: 'The current number of active peer connections.', labelNames: ['Local', 'Remote'], registers }),
    serverVersion: new Gauge({ name: 'etcd_server_version', help: 'The etcd API version this member reports; the value is always 1.', labelNames: ['server_version'], registers }),
    serverId: new Gauge({ name: 'etcd_server_id', help: 'The member id in hex; the value is always 1.', labelNames: ['server_id'], registers }),
    grpcStarted: new Counter({ name: 'grpc_server_started_total', help: 'RPCs started on the server.', labelNames: rpcLabels, registers, collect: flushTallies }),
    grpcHandled: new Counter({ name: 'grpc_server_handled_total', help: 'RPCs finished on the server, by status code.', labelNames: ['grpc_code', ...rpcLabels], registers, collect: flushTallies }),
    grpcMsgReceived: new Counter({ name: 'grpc_server_msg_received_total', help: 'Stream messages received from clients.', labelNames: rpcLabels, registers, collect: flushTallies }),
    grpcMsgSent: new Counter({ name: 'grpc_server_msg_sent_total', help: 'Stream messages sent to clients.', labelNames: rpcLabels, registers, collect: flushTallies }),
  };
  m.hasLeader.set(0);
  m.isLeader.set(0);
  m.serverVersion.set({ server_version: opts.serverVersion ?? '3.4.23' }, 1);
  return m;
}

/** One RPC started (and, for unary calls, its request message received). */
export function countRpcStarted(m: EtcdMetrics, type: GrpcType, service: string, method: string): void {
  const labels = { grpc_method: method, grpc_service: service, grpc_type: type }; // printed in this (etcd's) order
  m.grpcStarted.inc(labels);
  if (type === 'unary' || type === 'server_stream') m.grpcMsgReceived.inc(labels);
}

/** One RPC finished with gRPC status `code` (a number 0..16). */
export function countRpcHandled(m: EtcdMetrics, type: GrpcType, service: string, method: string, code: number): void {
  const labels = { grpc_method: method, grpc_service: service, grpc_type: type }; // printed in this (etcd's) order
  if (type === 'unary' && code === 0) m.grpcMsgSent.inc(labels);
  m.grpcHandled.inc({ grpc_code: GRPC_CODE_NAMES[code] ?? 'Unknown', ...labels });
}
