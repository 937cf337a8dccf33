// bench:compare --cluster's cases: the shapes of etcd's performance guide for three members, and the
// tool's command line when a case's connections go to every member.
import { describe, expect, it } from 'vitest';
import { etcdBenchmarkArgs } from '../../../bench/lib/etcd-benchmark.js';
import { BASE, clusterCases } from '../../../bench/lib/specs.js';

describe('clusterCases', () => {
  it('puts on the leader, on one follower and over every member, ranges over every member, with the driver asked for', () => {
    const cs = clusterCases(1, 'etcd');
    expect(cs.map((c) => [c.name, c.target, c.opts.case, c.opts.clients ?? 1, c.opts.total])).toEqual([
      ['put-1', 'leader', 'put', 1, 1000],
      ['put-1000-all', 'all', 'put', 1000, 20_000],
      ['put-1000-leader', 'leader', 'put', 1000, 20_000],
      ['put-1000-follower', 'follower', 'put', 1000, 20_000],
      ['range-l-1000', 'all', 'range', 1000, 20_000],
      ['range-s-1000', 'all', 'range', 1000, 20_000],
    ]);
    expect(cs.every((c) => c.opts.driver === 'etcd')).toBe(true);
    expect(clusterCases(0.001, 'node').every((c) => c.opts.driver === 'node' && c.opts.total === 20)).toBe(true);
  });

  it('the tool gets every member in --endpoints for an "all" case', () => {
    const c = clusterCases(1, 'etcd').find((x) => x.name === 'put-1000-all')!;
    const args = etcdBenchmarkArgs({ ...BASE, ...c.opts, endpoints: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'] });
    expect(args.slice(0, 6)).toEqual(['--endpoints', '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3', '--conns', '100', '--clients', '1000']);
    expect(args).toContain('--sequential-keys');
  });
});
