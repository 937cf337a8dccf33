// The Prometheus metrics of one member, under etcd 3.4's metric and label names so existing
// dashboards and alerts work unchanged. Definitions live here (pkg is a leaf) so that server/
// updates them and api/http only renders `registry.metrics()` at GET /metrics.
//
// One registry per member (prom.ts; no global one), so several members or tests can live
// in one process. Names, HELP texts, types, label names and histogram buckets are etcd 3.4.23's
// (the table in metrics-spec.ts; test/integration/metrics-compare.test.ts holds them to a real etcd):
//
//   etcd_server_has_leader 1
//   etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 37
//   grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 8
//
// Most values are read when scraped (`sample`: a function per family, called by the family's collect
// hook, prom.ts), so the paths that do the work only bump plain numbers. Contract: the server sets the gauges and observes the histograms (seconds); both API rooms call
// countRpcStarted / countRpcHandled for every RPC, including the ones that arrive through the JSON
// gateway (etcd's gateway is a gRPC client of its own server, so its calls are counted there too).
import { Counter, Gauge, Histogram, Registry } from './prom.js';
import { ETCD_METRIC_SPECS, OWN_METRIC_SPECS } from './metrics-spec.js';

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

type RpcLabels = 'grpc_type' | 'grpc_service' | 'grpc_method';
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

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
  /** Bytes of gRPC messages received from and sent to clients (etcd counts them in its codec). */
  readonly grpcBytes: { sent: number; received: number };
  /** One RPC started, by the client's `client-api-version` metadata ('unknown' without). */
  countClientRequest(type: 'unary' | 'stream', version: string): void;
  /** The v2 API's request counters for one method (GET, QGET, PUT, POST, DELETE), cached. */
  v2Requests(method: string): { received: Tally; succeeded: Observer };
  /** Every family by its etcd name. */
  readonly byName: ReadonlyMap<string, AnyMetric>;
  /**
   * Reads the value of an unlabelled gauge or counter when /metrics is scraped (a counter's
   * function returns its running total), or of labelled series (`labels` → value, all replaced).
   */
  sample(name: string, read: () => number | readonly (readonly [Record<string, string>, number])[]): void;
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
  add(n: number): void;
}

interface PendingTally<T extends string> {
  labels: Partial<Record<T, string | number>>;
  n: number;
  inc(): void;
  add(n: number): void;
}

const tallies = new WeakMap<Counter<string>, PendingTally<string>[]>();

/**
 * A series of `counter` counted in a plain number and added to the counter when it is read (a scrape):
 * a counter hashes the labels on every increment (prom-client did so too; it cost ~2% of a
 * gRPC call's CPU). Every counter made by createMetrics flushes its tallies when collected.
 */
export function tally<T extends string>(counter: Counter<T>, labels: Partial<Record<T, string | number>>): Tally {
  const t: PendingTally<T> = { labels, n: 0, inc() { this.n++; }, add(n: number) { this.n += n; } };
  const list = tallies.get(counter as Counter<string>) ?? [];
  list.push(t as PendingTally<string>);
  tallies.set(counter as Counter<string>, list);
  return t;
}

/** Observations of one labelled histogram series, handed to the histogram when read (as tallies are). */
export interface Observer {
  observe(value: number): void;
}

const OBSERVER_PENDING_MAX = 4096; // between scrapes, flushed at once past this

interface PendingObserver {
  labels: Record<string, string>;
  values: number[];
}

const observers = new WeakMap<Histogram<string>, PendingObserver[]>();

/** A series of `histogram` (labels fixed) that costs an array push per observation. */
export function observer(histogram: Histogram<string>, labels: Record<string, string>): Observer {
  const p: PendingObserver = { labels, values: [] };
  const list = observers.get(histogram) ?? [];
  list.push(p);
  observers.set(histogram, list);
  return {
    observe(v: number): void {
      p.values.push(v);
      if (p.values.length >= OBSERVER_PENDING_MAX) flushObserver(histogram, p);
    },
  };
}

function flushObserver(h: Histogram<string>, p: PendingObserver): void {
  for (const v of p.values) h.observe(p.labels, v);
  p.values.length = 0;
}

function flushObservers(this: Histogram<string>): void {
  for (const p of observers.get(this) ?? []) flushObserver(this, p);
}

type Sampler = () => number | readonly (readonly [Record<string, string>, number])[];

/** The families' collect hook: adds what the tallies counted since the last read, then the sampler. */
function collectFrom(samplers: Map<string, Sampler>) {
  return function collect(this: Counter<string> | Gauge<string>): void {
    const name = (this as unknown as { name: string }).name;
    if (this instanceof Counter) {
      for (const t of tallies.get(this) ?? []) {
        if (t.n === 0) continue;
        this.inc(t.labels, t.n);
        t.n = 0;
      }
    }
    const read = samplers.get(name);
    if (read === undefined) return;
    const v = read();
    if (typeof v === 'number') {
      if (this instanceof Gauge) this.set(v);
      else { this.reset(); this.inc(v); }
      return;
    }
    this.reset();
    for (const [labels, n] of v) (this instanceof Gauge ? this.set(labels, n) : this.inc(labels, n));
  };
}

export function createMetrics(opts: { serverVersion?: string } = {}): EtcdMetrics {
  const registry = new Registry();
  const registers = [registry];
  const samplers = new Map<string, Sampler>();
  const collect = collectFrom(samplers);
  const byName = new Map<string, AnyMetric>();
  for (const [kind, name, help, labels = [], buckets] of [...ETCD_METRIC_SPECS, ...OWN_METRIC_SPECS]) {
    const labelNames = [...labels];
    byName.set(name, kind === 'h'
      ? new Histogram({ name, help, labelNames, registers, buckets: [...(buckets ?? [])], collect: flushObservers })
      : kind === 'c' ? new Counter({ name, help, labelNames, registers, collect })
      : new Gauge({ name, help, labelNames, registers, collect }));
  }
  const get = <T>(name: string): T => {
    const metric = byName.get(name);
    if (metric === undefined) throw new Error(`metric ${name} is not in ETCD_METRIC_SPECS or OWN_METRIC_SPECS`);
    return metric as T;
  };
  const grpcBytes = { sent: 0, received: 0 };
  const clientRequests = { unary: new Map<string, Tally>(), stream: new Map<string, Tally>() };
  const clientRequestsTotal = get<Counter<string>>('etcd_server_client_requests_total');
  const v2 = new Map<string, { received: Tally; succeeded: Observer }>();
  const m: EtcdMetrics = {
    registry,
    byName,
    grpcBytes,
    v2Requests: (method) => {
      let c = v2.get(method);
      if (c === undefined) {
        c = {
          received: tally(get<Counter<string>>('etcd_http_received_total'), { method }),
          succeeded: observer(get<Histogram<string>>('etcd_http_successful_duration_seconds'), { method }),
        };
        v2.set(method, c);
      }
      return c;
    },
    countClientRequest: (type, version) => {
      let t = clientRequests[type].get(version);
      if (t === undefined) {
        t = tally(clientRequestsTotal, { client_api_version: version, type });
        clientRequests[type].set(version, t);
      }
      t.inc();
    },
    sample: (name, read) => { get(name); samplers.set(name, read); },
    hasLeader: get('etcd_server_has_leader'),
    isLeader: get('etcd_server_is_leader'),
    leaderChangesSeen: get('etcd_server_leader_changes_seen_total'),
    proposalsCommitted: get('etcd_server_proposals_committed_total'),
    proposalsApplied: get('etcd_server_proposals_applied_total'),
    proposalsPending: get('etcd_server_proposals_pending'),
    proposalsFailed: get('etcd_server_proposals_failed_total'),
    dbTotalSizeBytes: get('etcd_mvcc_db_total_size_in_bytes'),
    dbTotalSizeInUseBytes: get('etcd_mvcc_db_total_size_in_use_in_bytes'),
    walFsyncSeconds: get('etcd_disk_wal_fsync_duration_seconds'),
    backendCommitSeconds: get('etcd_disk_backend_commit_duration_seconds'),
    healthSuccess: get('etcd_server_health_success'),
    healthFailures: get('etcd_server_health_failures'),
    peerSentBytes: get('etcd_network_peer_sent_bytes_total'),
    peerReceivedBytes: get('etcd_network_peer_received_bytes_total'),
    peerSentFailures: get('etcd_network_peer_sent_failures_total'),
    peerRoundTripSeconds: get('etcd_network_peer_round_trip_time_seconds'),
    activePeers: get('etcd_network_active_peers'),
    serverVersion: get('etcd_server_version'),
    serverId: get('etcd_server_id'),
    grpcStarted: get('grpc_server_started_total'),
    grpcHandled: get('grpc_server_handled_total'),
    grpcMsgReceived: get('grpc_server_msg_received_total'),
    grpcMsgSent: get('grpc_server_msg_sent_total'),
  };
  m.sample('etcd_network_client_grpc_sent_bytes_total', () => grpcBytes.sent);
  m.sample('etcd_network_client_grpc_received_bytes_total', () => grpcBytes.received);
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
