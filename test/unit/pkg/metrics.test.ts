import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/pkg/metrics.js';
import { ETCD_METRIC_SPECS, EXCLUDED_FAMILIES, exp } from '../../../src/pkg/metrics-spec.js';
import { peerMetrics } from '../../../src/server/peers.js';

describe('pkg/metrics', () => {
  it('registers every family of the table with its type, HELP and buckets, and none twice', async () => {
    const m = createMetrics();
    const text = await m.registry.metrics();
    const names = ETCD_METRIC_SPECS.map((s) => s[1]);
    expect(new Set(names).size).toBe(names.length);
    for (const [kind, name, help, labels = [], buckets] of ETCD_METRIC_SPECS) {
      expect(text).toContain(`# HELP ${name} ${help}\n# TYPE ${name} ${{ c: 'counter', g: 'gauge', h: 'histogram' }[kind]}\n`);
      if (buckets && labels.length === 0) {
        // an unlabelled histogram prints its buckets from the start, as Go's does
        for (const b of buckets) expect(text).toContain(`${name}_bucket{le="${b}"} 0`);
      }
    }
    for (const [prefix] of EXCLUDED_FAMILIES) expect(names.some((n) => n.startsWith(prefix))).toBe(false);
  });

  it("builds Go's exponential buckets", () => {
    expect(exp(0.001, 2, 14).at(-1)).toBeCloseTo(8.192);
    expect(exp(1, 2, 24).at(-1)).toBe(8388608);
    expect(exp(0.5, 2, 3)).toEqual([0.5, 1, 2]);
  });

  it('reads sampled values at scrape time: gauges, counters and labelled series', async () => {
    const m = createMetrics();
    let puts = 0;
    m.sample('etcd_mvcc_put_total', () => puts);
    m.sample('etcd_server_quota_backend_bytes', () => 2147483648);
    m.sample('etcd_cluster_version', () => [[{ cluster_version: '3.4' }, 1]]);
    puts = 3;
    let text = await m.registry.metrics();
    expect(text).toContain('etcd_mvcc_put_total 3\n');
    expect(text).toContain('etcd_server_quota_backend_bytes 2147483648\n');
    expect(text).toContain('etcd_cluster_version{cluster_version="3.4"} 1\n');
    puts = 5;
    text = await m.registry.metrics();
    expect(text).toContain('etcd_mvcc_put_total 5\n');
    expect(() => m.sample('etcd_no_such_thing', () => 1)).toThrow(/not in ETCD_METRIC_SPECS/);
  });

  it('counts client requests by version and the v2 API by method, flushed at scrape', async () => {
    const m = createMetrics();
    m.countClientRequest('unary', '3.4');
    m.countClientRequest('unary', '3.4');
    m.countClientRequest('stream', 'unknown');
    const put = m.v2Requests('PUT');
    expect(m.v2Requests('PUT')).toBe(put); // cached
    put.received.inc();
    put.succeeded.observe(0.003);
    const text = await m.registry.metrics();
    expect(text).toContain('etcd_server_client_requests_total{client_api_version="3.4",type="unary"} 2');
    expect(text).toContain('etcd_server_client_requests_total{client_api_version="unknown",type="stream"} 1');
    expect(text).toContain('etcd_http_received_total{method="PUT"} 1');
    expect(text).toContain('etcd_http_successful_duration_seconds_bucket{le="0.004",method="PUT"} 1');
    expect(text).toContain('etcd_http_successful_duration_seconds_bucket{le="0.002",method="PUT"} 0');
  });

  it("peer metrics: etcd's peer families, one set of series per peer", async () => {
    const m = createMetrics();
    const o = peerMetrics(m, 0x10n);
    o.bytes(0x20n, 'sent', 100);
    o.bytes(0x20n, 'sent', 50);
    o.bytes(0x20n, 'received', 7);
    o.sendFailure(0x20n);
    o.roundTrip(0x20n, 0.0003);
    o.active(0x20n, true);
    o.active(0x20n, false);
    const text = await m.registry.metrics();
    expect(text).toContain('etcd_network_peer_sent_bytes_total{To="20"} 150');
    expect(text).toContain('etcd_network_peer_received_bytes_total{From="20"} 7');
    expect(text).toContain('etcd_network_peer_sent_failures_total{To="20"} 1');
    expect(text).toContain('etcd_network_peer_round_trip_time_seconds_bucket{le="0.0004",To="20"} 1');
    expect(text).toContain('etcd_network_active_peers{Local="10",Remote="20"} 0');
    expect(text).toContain('etcd_network_disconnected_peers_total{Local="10",Remote="20"} 1');
  });
});
