// The gateway's two streams: lease keepalive and watch, as etcd 3.4.23 answers them
// ({"result":…}\n lines, chunked; see observed-etcd.md).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../../src/api/http/index.js';
import { createFakeFacade, type FakeState } from './fake-facade.js';

const IDS = '"cluster_id":"15118495548433857066","member_id":"13668033151171901709"';
const H = (rev: number) => `{${IDS},"revision":"${rev}","raft_term":"2"}`;

let app: FastifyInstance;
let state: FakeState;

beforeEach(async () => {
  const fake = createFakeFacade();
  state = fake.state;
  app = createHttpApp(fake.facade, { logger: pino({ level: 'silent' }), maxRequestBytes: 1 << 20, enableV2: false });
  await app.ready();
});
afterEach(async () => {
  await app.close();
});

describe('lease keepalive', () => {
  it('answers every request object of the body in order, then ends', async () => {
    await app.inject({ method: 'POST', url: '/v3/lease/grant', payload: '{"TTL":30,"ID":555}' });
    const res = await app.inject({ method: 'POST', url: '/v3/lease/keepalive', payload: '{"ID":555}{"ID":555}\n{"ID":556}' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const line = `{"result":{"header":${H(1)},"ID":"555","TTL":"30"}}\n`;
    expect(res.body).toBe(`${line}${line}{"result":{"header":${H(1)},"ID":"556"}}\n`);
  });

  it('a malformed body is a 500 with gRPC code 2, as etcd', async () => {
    const res = await app.inject({ method: 'POST', url: '/v3/lease/keepalive', payload: 'junk' });
    expect(res.statusCode).toBe(500);
    expect(res.body).toBe(JSON.stringify({
      error: "invalid character 'j' looking for beginning of value",
      message: "invalid character 'j' looking for beginning of value",
      code: 2,
    }));
  });
});

describe('a bad message after the first (etcd 3.4.23: its gateway only stops sending)', () => {
  it('keepalive answers the good ones and ends cleanly, with no error line', async () => {
    await app.inject({ method: 'POST', url: '/v3/lease/grant', payload: '{"TTL":30,"ID":555}' });
    for (const tail of ['{"ID":"x"}{"ID":555}', '{"ID":', ' x']) {
      const res = await app.inject({ method: 'POST', url: '/v3/lease/keepalive', payload: `{"ID":555}${tail}` });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(`{"result":{"header":${H(1)},"ID":"555","TTL":"30"}}\n`);
    }
  });
});

describe('snapshot', () => {
  it('32 KiB pieces with remaining_bytes, then the sha256; no header', async () => {
    // a real socket: the stream waits for 'drain', which app.inject's fake response never emits
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/v3/maintenance/snapshot`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l).result as { remaining_bytes?: string; blob: string });
    const image = Buffer.alloc(40_000, 7);
    expect(lines.map((l) => [l.remaining_bytes, Buffer.from(l.blob, 'base64').length])).toEqual([['7232', 32768], [undefined, 7232], [undefined, 32]]);
    expect(Buffer.concat(lines.slice(0, 2).map((l) => Buffer.from(l.blob, 'base64')))).toEqual(image);
    expect(lines[2]?.blob).toBe(createHash('sha256').update(image).digest('base64'));
  });
});

/** A raw HTTP POST whose response lines are collected as they arrive. */
function openStream(port: number, body: string) {
  const lines: string[] = [];
  let status = 0;
  let waiters: (() => void)[] = [];
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v3/watch' }, (res) => {
    status = res.statusCode ?? 0;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      for (const w of waiters) w();
      waiters = [];
    });
  });
  req.on('error', () => {});
  req.end(body);
  const waitLines = async (n: number) => {
    while (lines.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return lines.slice(0, n);
  };
  return { lines, waitLines, status: () => status, close: () => req.destroy() };
}

describe('watch', () => {
  it('created, PUT and DELETE events with prev_kv, cancel, progress; the response stays open', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const s = openStream(port, '{"create_request":{"key":"Zm9v","prev_kv":true}}');
    expect(await s.waitLines(1)).toEqual([`{"result":{"header":${H(1)},"created":true}}`]);
    expect(s.status()).toBe(200);
    await app.inject({ method: 'POST', url: '/v3/kv/put', payload: '{"key":"Zm9v","value":"cXV4"}' });
    await app.inject({ method: 'POST', url: '/v3/kv/put', payload: '{"key":"Zm9v","value":"MQ=="}' });
    await app.inject({ method: 'POST', url: '/v3/kv/deleterange', payload: '{"key":"Zm9v"}' });
    const kv2 = '{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"cXV4"}';
    const kv3 = '{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"MQ=="}';
    expect((await s.waitLines(4)).slice(1)).toEqual([
      `{"result":{"header":${H(2)},"events":[{"kv":${kv2}}]}}`,
      `{"result":{"header":${H(3)},"events":[{"kv":${kv3},"prev_kv":${kv2}}]}}`,
      `{"result":{"header":${H(4)},"events":[{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"4"},"prev_kv":${kv3}}]}}`,
    ]);
    s.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(state.watchers).toHaveLength(0); // the server's watch stream was closed with the socket
  });

  it('several requests in one body: ids, cancel of a known and unknown id, progress request', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const s = openStream(port,
      '{"create_request":{"key":"Zm9v"}}{"create_request":{"key":"YQ=="}}{"cancel_request":{"watch_id":1}}' +
      '{"cancel_request":{"watch_id":7}}{"progress_request":{}}{}');
    expect(await s.waitLines(4)).toEqual([
      `{"result":{"header":${H(1)},"created":true}}`,
      `{"result":{"header":${H(1)},"watch_id":"1","created":true}}`,
      `{"result":{"header":${H(1)},"watch_id":"1","canceled":true}}`,
      `{"result":{"header":${H(1)},"watch_id":"-1"}}`,
    ]);
    expect(state.watchers.map((w) => w.spec.watchId)).toEqual([0]);
    s.close();
  });

  it('a compacted start revision: created, then canceled with compact_revision', async () => {
    state.revision = 5;
    state.compacted = 3;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const s = openStream(port, '{"create_request":{"key":"Zm9v","start_revision":1}}');
    expect(await s.waitLines(2)).toEqual([
      `{"result":{"header":${H(5)},"created":true}}`,
      `{"result":{"header":{${IDS},"raft_term":"2"},"canceled":true,"compact_revision":"3"}}`,
    ]);
    s.close();
  });

  it('an empty range or a duplicate id: created+canceled with watch_id -1 and the reason', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const s = openStream(port, '{"create_request":{"key":"d2s=","range_end":"d2s="}}{"create_request":{"key":"YQ==","watch_id":3}}' +
      '{"create_request":{"key":"Yg==","watch_id":3}}');
    expect(await s.waitLines(3)).toEqual([
      `{"result":{"header":${H(1)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: watcher range is empty"}}`,
      `{"result":{"header":${H(1)},"watch_id":"3","created":true}}`,
      `{"result":{"header":${H(1)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: duplicate watch ID provided on the WatchStream"}}`,
    ]);
    expect(state.watchers).toHaveLength(1);
    s.close();
  });

  it('passes key, range end, filters and start revision to the server', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const s = openStream(port, '{"create_request":{"key":"","range_end":"AA==","filters":["NOPUT",1],"start_revision":"1","watch_id":9}}');
    await s.waitLines(1);
    expect(state.watchers[0]?.spec).toMatchObject({
      watchId: 9, key: Buffer.from([0]), rangeEnd: Buffer.from([0]), startRevision: 1, noPut: true, noDelete: true, prevKv: false,
    });
    s.close();
  });
});

describe('blocking calls (Lock, Campaign)', () => {
  it('get a signal that aborts when the client hangs up before the answer', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const blocked = (_req: unknown, ctx?: { signal?: AbortSignal }) => {
      seen.push(ctx?.signal);
      return new Promise<never>(() => undefined);
    };
    const fake = createFakeFacade();
    const local = createHttpApp({ ...fake.facade, lock: blocked, campaign: blocked }, { logger: pino({ level: 'silent' }), maxRequestBytes: 1 << 20, enableV2: false });
    await local.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = local.server.address() as AddressInfo;
      for (const path of ['/v3/lock/lock', '/v3/election/campaign']) {
        const req = http.request({ host: '127.0.0.1', port, path, method: 'POST' });
        req.on('error', () => undefined);
        req.end('{"name":"bA=="}');
        const deadline = Date.now() + 5000;
        while (seen.length < (path.includes('lock') ? 1 : 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        const signal = seen[seen.length - 1]!;
        expect(signal.aborted).toBe(false);
        req.destroy();
        while (!signal.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        expect(signal.aborted).toBe(true);
      }
    } finally {
      await local.close();
    }
  });
});
