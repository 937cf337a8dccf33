// The families whose values the server reads from its rooms when /metrics is scraped (pkg/metrics.ts
// `sample`): the rooms keep plain counts (mvcc's StoreCore.ops and watch hub, the lessor's counts,
// the v2 store's stats, the ReadIndexer's), so the paths that do the work pay one addition.
import type { Backend } from '../backend/index.js';
import type { Lessor } from '../lease/index.js';
import type { RaftCluster } from '../membership/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { EtcdMetrics } from '../pkg/metrics.js';
import { hookFallbackSeries } from '../platform/hook-fence.js';
import { sampleProcessMetrics } from '../platform/process-metrics.js';
import type { V2Store } from '../v2store/index.js';
import type { ReadIndexer } from './read-index.js';

export interface MetricSources {
  memberId: bigint;
  quotaBytes: number;
  kv: KvStore;
  lessor: Lessor;
  v2: V2Store;
  backend: Backend;
  cluster: RaftCluster;
  readIndexer: ReadIndexer;
  clusterVersion(): string;
  authRevision(): number;
}

/** The v2 store's write actions, as etcd's etcd_debugging_store_writes_total labels them. */
const V2_WRITES = ['set', 'update', 'create', 'delete', 'compareAndSwap', 'compareAndDelete'] as const;
const V2_STAT_OF = { set: 'sets', update: 'update', create: 'create', delete: 'delete', compareAndSwap: 'compareAndSwap', compareAndDelete: 'compareAndDelete' } as const;

/** Counters the server bumps itself (not sampled). */
export interface ServerCounts {
  slowApplies: number;
  leasesExpired: number;
  snapshotApplying: number;
}

export function wireMetrics(m: EtcdMetrics, s: MetricSources): ServerCounts {
  const counts: ServerCounts = { slowApplies: 0, leasesExpired: 0, snapshotApplying: 0 };
  const mvcc = (): ReturnType<KvStore['metricsStats']> => s.kv.metricsStats();
  m.serverId.set({ server_id: s.memberId.toString(16) }, 1);
  m.sample('etcd_server_quota_backend_bytes', () => s.quotaBytes);
  m.sample('etcd_cluster_version', () => {
    const v = s.clusterVersion();
    return v === '' ? [] : [[{ cluster_version: v.split('.').slice(0, 2).join('.') }, 1]];
  });
  m.sample('etcd_server_is_learner', () => (s.cluster.member(s.memberId)?.isLearner ? 1 : 0));
  m.sample('etcd_debugging_auth_revision', () => s.authRevision());
  for (const prefix of ['etcd_mvcc_', 'etcd_debugging_mvcc_']) {
    m.sample(`${prefix}put_total`, () => mvcc().puts);
    m.sample(`${prefix}range_total`, () => mvcc().ranges);
    m.sample(`${prefix}delete_total`, () => mvcc().deletes);
    m.sample(`${prefix}txn_total`, () => mvcc().txns);
  }
  m.sample('etcd_debugging_mvcc_total_put_size_in_bytes', () => mvcc().putBytes);
  m.sample('etcd_debugging_mvcc_db_total_size_in_bytes', () => s.backend.size());
  m.sample('etcd_debugging_mvcc_keys_total', () => mvcc().liveKeys);
  m.sample('etcd_debugging_mvcc_current_revision', () => s.kv.rev());
  m.sample('etcd_debugging_mvcc_compact_revision', () => s.kv.compactRevision());
  m.sample('etcd_debugging_mvcc_watch_stream_total', () => mvcc().streams);
  m.sample('etcd_debugging_mvcc_watcher_total', () => mvcc().watchers);
  m.sample('etcd_debugging_mvcc_slow_watcher_total', () => mvcc().slowWatchers);
  m.sample('etcd_debugging_mvcc_pending_events_total', () => mvcc().pendingEvents);
  m.sample('etcd_debugging_mvcc_events_total', () => mvcc().eventsSent);
  m.sample('etcd_debugging_lease_granted_total', () => s.lessor.counts.granted);
  m.sample('etcd_debugging_lease_revoked_total', () => s.lessor.counts.revoked);
  m.sample('etcd_debugging_lease_renewed_total', () => s.lessor.counts.renewed);
  const ttl = m.byName.get('etcd_debugging_lease_ttl_total') as { observe(v: number): void };
  s.lessor.onGrant = (seconds) => ttl.observe(seconds);
  m.sample('etcd_debugging_server_lease_expired_total', () => counts.leasesExpired);
  m.sample('etcd_server_slow_apply_total', () => counts.slowApplies);
  m.sample('etcd_server_snapshot_apply_in_progress_total', () => counts.snapshotApplying);
  m.sample('etcd_server_read_indexes_failed_total', () => s.readIndexer.counts.failed);
  m.sample('etcd_server_slow_read_indexes_total', () => s.readIndexer.counts.slow);
  // the v2 store (etcd counts a read or write whether it succeeds or fails; our get is one action)
  const v2 = (): V2Store['stats'] => s.v2.stats;
  m.sample('etcd_debugging_store_reads_total', () => {
    const n = v2().getsSuccess + v2().getsFail;
    return n === 0 ? [] : [[{ action: 'get' }, n]];
  });
  m.sample('etcd_debugging_store_writes_total', () => V2_WRITES.flatMap((action) => {
    const n = v2()[`${V2_STAT_OF[action]}Success`] + v2()[`${V2_STAT_OF[action]}Fail`];
    return n === 0 ? [] : [[{ action }, n] as const];
  }));
  m.sample('etcd_debugging_store_expires_total', () => v2().expireCount);
  m.sample('etcd_debugging_store_watchers', () => s.v2.statsJson().watchers);
  m.sample('etcd_debugging_store_watch_requests_total', () => s.v2.watchRequests);
  const compactedKeys = m.byName.get('etcd_debugging_mvcc_db_compaction_keys_total') as { inc(n: number): void };
  s.kv.metricsHook = (family, value) => {
    const metric = m.byName.get(family);
    if (family === 'etcd_debugging_mvcc_db_compaction_keys_total') compactedKeys.inc(value);
    else (metric as { observe(v: number): void } | undefined)?.observe(value);
  };
  sampleProcessMetrics(m);
  m.sample('etcd_ts_fenced_hook_fallbacks_total', hookFallbackSeries);
  return counts;
}
