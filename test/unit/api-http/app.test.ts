// /health, /version, /metrics, 404/405/OPTIONS and the plugin slot, byte for byte as etcd 3.4.23.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import http from 'node:http';
import { pino } from 'pino';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createHttpApp, HEALTH_READ_TIMEOUT_MS } from '../../../src/api/http/index.js';
import { createMetrics, type EtcdMetrics } from '../../../src/pkg/metrics.js';
import { createFakeFacade, type FakeState } from './fake-facade.js';

let app: FastifyInstance;
let state: FakeState;
let metrics: EtcdMetrics;

async function start(extra: { enableV2?: boolean; plugins?: FastifyPluginAsync[] } = {}) {
  const fake = createFakeFacade();
  state = fake.state;
  metrics = createMetrics();
  app = createHttpApp(fake.facade, {
    logger: pino({ level: 'silent' }), maxRequestBytes: 1 << 20, enableV2: extra.enableV2 ?? false, metrics,
    ...(extra.plugins ? { plugins: extra.plugins } : {}),
  });
  await app.ready();
}
afterEach(async () => {
  await app.close();
});

describe('/health', () => {
  it('healthy: 200 {"health":"true"} as text/plain, no newline', async () => {
    await start();
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect({ status: res.statusCode, body: res.body, type: res.headers['content-type'] })
      .toEqual({ status: 200, body: '{"health":"true"}', type: 'text/plain; charset=utf-8' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('an active alarm: 503 {"health":"false"}\\n with nosniff', async () => {
    await start();
    state.alarms.push({ memberID: '1', alarm: 'NOSPACE' });
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect({ status: res.statusCode, body: res.body, type: res.headers['content-type'], nosniff: res.headers['x-content-type-options'] })
      .toEqual({ status: 503, body: '{"health":"false"}\n', type: 'text/plain; charset=utf-8', nosniff: 'nosniff' });
  });

  it('no leader: unhealthy', async () => {
    await start();
    state.leader = 0n;
    expect((await app.inject({ method: 'GET', url: '/health' })).body).toBe('{"health":"false"}\n');
    const text = await metrics.registry.metrics();
    expect(text).toContain('etcd_server_health_failures 1');
    expect(text).toContain('etcd_server_health_success 0');
  });

  it('a read that does not finish in time: unhealthy', async () => {
    await start();
    state.rangeHangs = true;
    const res = await app.inject({ method: 'GET', url: '/health' }); // answers after HEALTH_READ_TIMEOUT_MS
    expect(res.statusCode).toBe(503);
    expect(HEALTH_READ_TIMEOUT_MS).toBe(1000); // etcd's health read timeout
  });

  it('other methods: 405 with Allow: GET', async () => {
    await start();
    for (const url of ['/health', '/version']) {
      const res = await app.inject({ method: 'POST', url });
      expect({ status: res.statusCode, body: res.body, allow: res.headers.allow })
        .toEqual({ status: 405, body: 'Method Not Allowed\n', allow: 'GET' });
    }
    // whatever body comes with it (fastify's JSON parser answered 400 to a bad one)
    const bad = await app.inject({ method: 'POST', url: '/health', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([bad.statusCode, bad.body]).toEqual([405, 'Method Not Allowed\n']);
    const nf = await app.inject({ method: 'PUT', url: '/v2/keysx', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([nf.statusCode, nf.body]).toEqual([404, '404 page not found\n']);
    // HEAD too (etcd's handlers allow GET only): no health read, so no raft entry and no v2 get counted
    for (const url of ['/health', '/version']) {
      const res = await app.inject({ method: 'HEAD', url });
      expect({ status: res.statusCode, allow: res.headers.allow, length: res.headers['content-length'] })
        .toEqual({ status: 405, allow: 'GET', length: '19' });
    }
  });
});

describe('/version, /metrics, unknown paths', () => {
  it('/version: exact bytes and content type', async () => {
    await start();
    const res = await app.inject({ method: 'GET', url: '/version' });
    expect({ body: res.body, type: res.headers['content-type'] })
      .toEqual({ body: '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}', type: 'application/json' });
  });

  it('/metrics: Prometheus text with etcd names, values the server set', async () => {
    await start();
    metrics.hasLeader.set(1);
    metrics.leaderChangesSeen.inc();
    metrics.proposalsCommitted.set(35);
    metrics.walFsyncSeconds.observe(0.0015);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const line of [
      'etcd_server_has_leader 1', 'etcd_server_leader_changes_seen_total 1', 'etcd_server_proposals_committed_total 35',
      'etcd_server_proposals_applied_total 0', 'etcd_server_proposals_pending 0', 'etcd_server_proposals_failed_total 0',
      'etcd_mvcc_db_total_size_in_bytes 0', 'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 0',
      'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 1', 'etcd_disk_wal_fsync_duration_seconds_bucket{le="8.192"} 1',
      'etcd_disk_backend_commit_duration_seconds_count 0', 'etcd_server_version{server_version="3.4.23"} 1',
      '# TYPE etcd_server_proposals_committed_total gauge', '# TYPE grpc_server_handled_total counter',
    ]) expect(res.body).toContain(line);
  });

  it('unknown paths: 404 page not found; OPTIONS: 200 with CORS headers', async () => {
    await start();
    const res = await app.inject({ method: 'GET', url: '/nothing' });
    expect({ status: res.statusCode, body: res.body, nosniff: res.headers['x-content-type-options'] })
      .toEqual({ status: 404, body: '404 page not found\n', nosniff: 'nosniff' });
    const opt = await app.inject({ method: 'OPTIONS', url: '/v3/kv/range' });
    expect(opt.statusCode).toBe(200);
    expect(opt.headers['access-control-allow-methods']).toBe('POST, GET, OPTIONS, PUT, DELETE');
    // whatever body it carries (fastify's parsers answered 415 or 400)
    for (const [type, payload] of [['application/json', '{'], ['application/x-www-form-urlencoded', 'a=1'], ['text/plain', 'x']]) {
      const o = await app.inject({ method: 'OPTIONS', url: '/v2/members', headers: { 'content-type': type }, payload });
      expect([o.statusCode, o.body, o.headers['access-control-allow-origin']]).toEqual([200, '', '*']);
    }
  });
});

describe('embedding', () => {
  it('does not listen by itself; app.server is the http.Server; v2 plugins only with enableV2', async () => {
    const v2: FastifyPluginAsync = async (a) => {
      a.get('/v2/keys', async () => ({ action: 'get' }));
    };
    await start({ enableV2: true, plugins: [v2] });
    expect(app.server.listening).toBe(false);
    expect(typeof app.server.emit).toBe('function');
    expect((await app.inject({ method: 'GET', url: '/v2/keys' })).statusCode).toBe(200);
    await app.close();
    await start({ enableV2: false, plugins: [v2] });
    expect((await app.inject({ method: 'GET', url: '/v2/keys' })).statusCode).toBe(404);
  });

  it('raw handlers see each request before fastify, with the CORS headers; only with enableV2', async () => {
    const seen: string[] = [];
    const raw = (req: http.IncomingMessage, res: http.ServerResponse, cors: Readonly<Record<string, string>>): boolean => {
      seen.push(req.url!);
      if (!req.url!.startsWith('/raw')) return false;
      res.writeHead(200, { ...cors, 'content-type': 'text/plain' }).end('raw');
      return true;
    };
    for (const enableV2 of [true, false]) {
      app = createHttpApp(createFakeFacade().facade, { logger: pino({ level: 'silent' }), maxRequestBytes: 1024, enableV2, rawHandlers: [raw] });
      await app.ready();
      await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
      const port = (app.server.address() as net.AddressInfo).port;
      const get = (p: string) => new Promise<{ status: number; body: string; cors?: string }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: p }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body, cors: res.headers['access-control-allow-origin'] as string }));
        }).on('error', reject);
      });
      seen.length = 0;
      const a = await get('/raw/x');
      const b = await get('/version');
      expect([a.status, a.body === 'raw', a.cors]).toEqual(enableV2 ? [200, true, '*'] : [404, false, '*']);
      expect(b.status).toBe(200);
      expect(seen).toEqual(enableV2 ? ['/raw/x', '/version'] : []);
      await app.close();
    }
  });
});

describe('socket hand-off (how platform/ wires the client port)', () => {
  it('a bad %-escape in any path is Go\'s bare 400 bytes and a closed connection (the query is not checked)', async () => {
    await start();
    const listener = net.createServer((socket) => app.server.emit('connection', socket));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as net.AddressInfo).port;
    const ask = (line: string): Promise<string> => new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.write(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    try {
      for (const path of ['/v2/members/%zz', '/health%2', '/v3/kv/%']) {
        expect(await ask(`GET ${path} HTTP/1.1`)).toBe('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
      }
      expect(await ask('GET /version?%zz HTTP/1.1')).toContain('{"etcdserver":"3.4.23"');
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  it('serves HTTP/1.1 on sockets emitted as connection events, and close() ends open watch streams', async () => {
    await start();
    const listener = net.createServer((socket) => app.server.emit('connection', socket));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const version = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/version' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      expect(version).toBe('{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
      const ended = new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v3/watch' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
          res.on('error', () => resolve(body));
        });
        req.on('error', reject);
        req.write('{"create_request":{"key":"Zm9v"}}'); // body left open, like a streaming client
      });
      while (state.watchers.length === 0) await new Promise((r) => setTimeout(r, 10));
      await app.close();
      expect(await ended).toContain('"created":true');
      expect(state.watchers).toHaveLength(0);
    } finally {
      listener.close();
    }
  });
});
