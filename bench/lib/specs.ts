// The cases bench:compare runs, with their totals at --scale 1: the single-member set and the
// subset run against 3-member clusters (--cluster).
import type { BenchOptions } from './types.js';
import { etcdBenchmarkAvailable } from './etcd-benchmark.js';
import { wrkAvailable } from './wrk.js';

export interface CaseSpec { name: string; opts: Partial<BenchOptions> & Pick<BenchOptions, 'case' | 'total'> }

export const BASE: Omit<BenchOptions, 'case' | 'total' | 'endpoints'> = {
  conns: 1, clients: 1, keySize: 8, valSize: 256, keySpace: 1, sequentialKeys: false, consistency: 'l',
  watchers: 1, watchStreams: 1, putRate: 100, workers: 0,
};

/** A total at --scale: at least 20 (or x when smaller), so that a tiny scale still measures something. */
export const scaled = (x: number, scale: number): number => Math.max(Math.min(x, 20), Math.round(x * scale));

/** Warm-up puts from 1,000 clients (at --scale 1). */
export const WARMUP_PUTS = 20_000;
/** Then warm-up puts from one client (at --scale 1). */
export const WARMUP_ONE_CLIENT_PUTS = 2_000;

/**
 * The warm-up's two runs (put options; merge endpoints in): as heavy as a case (with 1,000 puts from
 * 100 clients, V8 was still compiling ours' paths through the first 1,000-client case), then one
 * client, whose path (one entry per save) is not the 1,000 clients' batches. etcd needs none, and
 * it costs it nothing.
 */
export function warmupRuns(scale: number, driver: CaseSpec['opts']['driver'] = etcdBenchmarkAvailable() ? 'etcd' : 'node'): [CaseSpec['opts'], CaseSpec['opts']] {
  // spread over 100,000 keys: not the read cases' key 00000000 over and over
  const many = { case: 'put', total: scaled(WARMUP_PUTS, scale), conns: 100, clients: 1000, keySpace: 100_000, driver } as const;
  return [many, { ...many, total: scaled(WARMUP_ONE_CLIENT_PUTS, scale), conns: 1, clients: 1 }];
}

/**
 * The single-member cases, with totals at scale 1 (each about 2–6 s on etcd on a quiet 2-core box).
 * put, txn-put and range run with etcd's own benchmark tool when it is built (lib/etcd-benchmark.ts)
 * with the flags of etcd's performance guide (8-byte keys, 256-byte values, sequential keys), else
 * with the Node driver; the other cases are what the tool lacks.
 */
export function singleMemberCases(scale: number, v2Driver: 'node' | 'wrk' = wrkAvailable() ? 'wrk' : 'node',
  grpcDriver: 'node' | 'etcd' = etcdBenchmarkAvailable() ? 'etcd' : 'node'): CaseSpec[] {
  const n = (x: number): number => scaled(x, scale);
  const many = { conns: 100, clients: 1000, driver: grpcDriver };
  const v2 = { driver: v2Driver, durationS: Math.max(1, 3 * scale) }; // wrk runs for a time
  const seq = { sequentialKeys: grpcDriver === 'etcd' };
  return [
    { name: 'put-1', opts: { case: 'put', total: n(5000), driver: grpcDriver, ...seq } },
    { name: 'put-1000', opts: { case: 'put', total: n(50_000), ...many, ...seq } },
    { name: 'put-1000-100k-keys', opts: { case: 'put', total: n(100_000), ...many, keySpace: 100_000, sequentialKeys: true } },
    { name: 'txn-put-1000', opts: { case: 'txn-put', total: n(20_000), ...many, keySpace: 1000 } },
    { name: 'range-l-1000', opts: { case: 'range', total: n(50_000), ...many } },
    { name: 'range-s-1000', opts: { case: 'range', total: n(50_000), ...many, consistency: 's' } },
    // issue 17: the same with a simple token of a user whose role permits the keys (a member with auth enabled)
    { name: 'auth-put-1000', opts: { case: 'put', total: n(20_000), ...many, driver: 'node', auth: true } },
    { name: 'auth-range-l-1000', opts: { case: 'range', total: n(20_000), ...many, driver: 'node', auth: true } },
    { name: 'watch-1', opts: { case: 'watch', total: n(100), watchers: 1, watchStreams: 1 } },
    // put rates keep the events/s (watchers x rate) well below what the generator decodes (~50k/s)
    { name: 'watch-100', opts: { case: 'watch', total: n(100), watchers: 100, watchStreams: 10, conns: 10, putRate: 50 } },
    { name: 'watch-10000', opts: { case: 'watch', total: n(10), watchers: 10_000, watchStreams: 100, conns: 10, putRate: 2 } },
    { name: 'lease-keepalive-100', opts: { case: 'lease-keepalive', total: n(10_000), conns: 10, clients: 100 } },
    // issue 5: v2 GET and PUT with 64 connections, one client each, driven by wrk when it is installed
    // (Node's HTTP client would be the bottleneck: lib/wrk.ts)
    { name: 'v2-put-64', opts: { case: 'v2-put', total: n(5000), conns: 64, clients: 64, ...v2 } },
    { name: 'v2-get-64', opts: { case: 'v2-get', total: n(5000), conns: 64, clients: 64, ...v2 } },
  ];
}

/**
 * The cases of `bench:compare --cluster`, as etcd's performance guide (op-guide/performance.md) runs
 * them against three members: put with one client on the leader; put with 1,000 clients over 100
 * connections, the connections spread over every member (followers forward to the leader) and, in
 * a second case, all on the leader (the guide's --target-leader), in a third all on one follower
 * (every put forwarded: the cost of forwarding alone, apart from spreading the clients); range l / s
 * with 1,000 clients over every member. Driven by etcd's benchmark tool when it is built, else by the Node generator (CI).
 * Totals at scale 1: 3 default rounds (6 clusters started, loaded, failed over and stopped) took
 * 4 minutes on the shared 2-core machine at load average ~20; a 1,000-client run lasts 3–12 s.
 */
export const CLUSTER_TOTALS: Record<string, number> = {
  'put-1': 1000, 'put-1000-all': 20_000, 'put-1000-leader': 20_000, 'put-1000-follower': 20_000, 'range-l-1000': 20_000, 'range-s-1000': 20_000,
};

/** Where a cluster case's connections go: the leader only, one follower only, or every member round-robin. */
export type ClusterTarget = 'leader' | 'follower' | 'all';
export interface ClusterCaseSpec extends CaseSpec { target: ClusterTarget }

export function clusterCases(scale: number, driver: 'node' | 'etcd' = etcdBenchmarkAvailable() ? 'etcd' : 'node'): ClusterCaseSpec[] {
  const n = (name: string): number => scaled(CLUSTER_TOTALS[name]!, scale);
  const many = { conns: 100, clients: 1000, driver };
  const seq = { sequentialKeys: driver === 'etcd' };
  return [
    { name: 'put-1', target: 'leader', opts: { case: 'put', total: n('put-1'), driver, ...seq } },
    { name: 'put-1000-all', target: 'all', opts: { case: 'put', total: n('put-1000-all'), ...many, ...seq } },
    { name: 'put-1000-leader', target: 'leader', opts: { case: 'put', total: n('put-1000-leader'), ...many, ...seq } },
    { name: 'put-1000-follower', target: 'follower', opts: { case: 'put', total: n('put-1000-follower'), ...many, ...seq } },
    { name: 'range-l-1000', target: 'all', opts: { case: 'range', total: n('range-l-1000'), ...many } },
    { name: 'range-s-1000', target: 'all', opts: { case: 'range', total: n('range-s-1000'), ...many, consistency: 's' } },
  ];
}
