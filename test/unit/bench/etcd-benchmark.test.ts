// The etcd benchmark tool driver: its command lines and the parsing of its report.
import { describe, expect, it } from 'vitest';
import { etcdBenchmarkArgs, parseToolOutput } from '../../../bench/lib/etcd-benchmark.js';
import { BASE } from '../../../bench/lib/specs.js';
import type { BenchOptions } from '../../../bench/lib/types.js';

const opts = (o: Partial<BenchOptions> & Pick<BenchOptions, 'case'>): BenchOptions =>
  ({ ...BASE, total: 100, endpoints: ['127.0.0.1:1'], ...o });

// as the tool prints it (progress bar on stdout first), trimmed of the histogram
const REPORT = ` 0 / 2000    0.00% 2000 / 2000  100.00% 0s

Summary:
  Total:\t0.651468594 secs.
  Slowest:\t0.1659011 secs.
  Fastest:\t0.004034045 secs.
  Average:\t0.030952335262999894 secs.
  Stddev:\t0.03078686052168435 secs.
  Requests/sec:\t3069.9868242612474

Latency distribution:
  10% in 0.009332184 secs.
  50% in 0.022826109 secs.
  99% in 0.13756081 secs.
  99.9% in 0.16576449 secs.

Error distribution:
  [3]\tetcdserver: request timed out
`;

describe('etcd benchmark tool driver', () => {
  it('passes the case flags as etcd performance guide spells them', () => {
    expect(etcdBenchmarkArgs(opts({ case: 'put', conns: 100, clients: 1000, total: 5, valSize: 256, keySpace: 100_000, sequentialKeys: true })))
      .toEqual(['--endpoints', '127.0.0.1:1', '--conns', '100', '--clients', '1000', '--precise', 'put', '--key-size', '8',
        '--val-size', '256', '--total', '5', '--key-space-size', '100000', '--sequential-keys']);
    expect(etcdBenchmarkArgs(opts({ case: 'range', consistency: 's' })).slice(-6)).toEqual(['range', '00000000', '--consistency', 's', '--total', '100']);
    expect(etcdBenchmarkArgs(opts({ case: 'txn-put', keySpace: 1000 }))).toContain('txn-put');
    expect(() => etcdBenchmarkArgs(opts({ case: 'watch' }))).toThrow(/put, txn-put, range only/);
  });

  it('reads req/s, percentiles and errors from the report', () => {
    const s = parseToolOutput(REPORT);
    expect(s.reqPerS).toBeCloseTo(3069.987, 3);
    expect(s.totalS).toBeCloseTo(0.651468594, 9);
    expect(s.pct.get(50)).toBeCloseTo(0.022826109, 9);
    expect(s.pct.get(99)).toBeCloseTo(0.13756081, 9);
    expect(s.pct.get(99.9)).toBeCloseTo(0.16576449, 9);
    expect([...s.errors]).toEqual([['etcdserver: request timed out', 3]]);
    expect(parseToolOutput('').errors.size).toBe(0);
  });
});
