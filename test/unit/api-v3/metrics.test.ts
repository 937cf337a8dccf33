import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/pkg/metrics.js';
import { call, clients, fakeFacade, header, startServer } from './harness.js';

describe('grpc_server_* metrics', () => {
  it('count started and handled RPCs by method and status code', async () => {
    const metrics = createMetrics();
    const srv = await startServer(
      fakeFacade({ range: async () => ({ header: header(), kvs: [], count: 0 }) }),
      { metrics },
    );
    const c = clients(srv.address);
    try {
      await call(c.kv.Range.bind(c.kv), { key: Buffer.from('k') });
      await call(c.kv.Range.bind(c.kv), { key: Buffer.from('k') });
      await call(c.kv.Range.bind(c.kv), {}).catch(() => undefined);
      const text = await metrics.registry.metrics();
      const labels = 'grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"';
      expect(text).toContain(`grpc_server_started_total{${labels}} 3`);
      expect(text).toContain(`grpc_server_handled_total{grpc_code="OK",${labels}} 2`);
      expect(text).toContain(`grpc_server_handled_total{grpc_code="InvalidArgument",${labels}} 1`);
      // counts are handed to prom-client at each scrape: a later scrape adds only what came since
      await call(c.kv.Range.bind(c.kv), { key: Buffer.from('k') });
      const again = await metrics.registry.metrics();
      expect(again).toContain(`grpc_server_started_total{${labels}} 4`);
      expect(again).toContain(`grpc_server_handled_total{grpc_code="OK",${labels}} 3`);
      expect(again).toContain(`grpc_server_msg_sent_total{${labels}} 3`);
      expect(await metrics.registry.metrics()).toContain(`grpc_server_started_total{${labels}} 4`);
    } finally {
      c.close();
      await srv.stop();
    }
  });

  it('count bidi streams as etcd does: OK when the handler ends after the half-close, Canceled when the client cancels', async () => {
    const metrics = createMetrics();
    const srv = await startServer(
      fakeFacade({ leaseKeepAlive: async (r) => ({ header: header(), ID: r.ID, TTL: 5 }) }),
      { metrics },
    );
    const c = clients(srv.address);
    let text = '';
    try {
      const labels = 'grpc_method="LeaseKeepAlive",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"';
      const ended = c.lease.LeaseKeepAlive();
      ended.on('data', () => undefined);
      ended.write({ ID: 7 });
      ended.end();
      await new Promise((r) => ended.on('status', r));
      const cancelled = c.lease.LeaseKeepAlive();
      cancelled.on('error', () => undefined);
      cancelled.write({ ID: 8 });
      await new Promise((r) => cancelled.once('data', r));
      cancelled.cancel();
      const want = [`grpc_server_handled_total{grpc_code="OK",${labels}} 1`, `grpc_server_handled_total{grpc_code="Canceled",${labels}} 1`];
      for (let i = 0; i < 200; i++) {
        text = await metrics.registry.metrics();
        if (want.every((w) => text.includes(w))) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const w of want) expect(text).toContain(w);
      expect(text).toContain(`grpc_server_started_total{${labels}} 2`);
      expect(text).toContain(`grpc_server_msg_received_total{${labels}} 2`);
    } finally {
      c.close();
      await srv.stop();
    }
  });
});
