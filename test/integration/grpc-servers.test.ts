// The client port's gRPC on both of its servers: the JavaScript HTTP/2 (the default: api/v3/h2-grpc.ts
// over platform/h2) and grpc-js over node:http2 (ETCD_TS_HTTP2=node), driven by etcdctl (grpc-go)
// and a grpc-js client: KV, txn, watch
// (events, then a cancel on the open stream), lease grant/keep-alive/revoke, snapshot save, auth
// with a token, endpoint status, member list, an unknown method; HTTP/1 still on the same port; a
// clean stop with a watch open.
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { cleanup, ctlOk, ETCDCTL_BIN, etcdctl, startMember, tempDir, type Member } from './harness.js';
import { unary } from './grpc-unary.js';

afterAll(cleanup);

// At a stop, a watch still open after the grace period ends UNAVAILABLE on the JavaScript HTTP/2 (the
// connection goes, as grpc-go's server closes it); grpc-js cancels the call (CANCELLED).
describe.each<{ name: string; env: Record<string, string>; log: string; cutCode: grpc.status }>([
  { name: 'default', env: {}, log: 'serving gRPC with the JavaScript HTTP/2', cutCode: grpc.status.UNAVAILABLE },
  { name: 'ETCD_TS_HTTP2=node', env: { ETCD_TS_HTTP2: 'node' }, log: 'serving gRPC with grpc-js over node:http2', cutCode: grpc.status.CANCELLED },
])('$name', ({ env, log, cutCode }) => {
  let m: Member;
  const ctl = (...args: string[]): Promise<string> => ctlOk(m, args);

  beforeAll(async () => {
    m = await startMember({ env });
  });

  it(`${log} (and HTTP/1 on the same port)`, async () => {
    expect(m.logs()).toContain(log);
    expect(await (await fetch(`${m.clientUrl}/health`)).json()).toEqual({ health: 'true' });
  });

  it('put, get, txn, del', async () => {
    expect(await ctl('put', 'k1', 'v1')).toBe('OK\n');
    expect(await ctl('get', 'k1')).toBe('k1\nv1\n');
    const txn = await ctlOk(m, ['txn'], { input: 'value("k1") = "v1"\n\nput k2 v2\n\nput k2 no\n\n' });
    expect(txn).toBe('SUCCESS\n\nOK\n');
    expect(await ctl('get', 'k', '--prefix', '--keys-only')).toBe('k1\n\nk2\n\n');
    expect(await ctl('del', 'k', '--prefix')).toBe('2\n');
    // over the 1 MiB stream window: WINDOW_UPDATEs mid-message, both ways
    const kv = new (etcdGrpc().etcdserverpb.KV)(m.endpoint, grpc.credentials.createInsecure());
    try {
      const big = Buffer.alloc(1_300_000, 'x');
      await unary(kv, 'Put', { key: Buffer.from('big'), value: big });
      expect((await ctl('get', 'big', '--print-value-only')).length).toBe(big.length + 1);
    } finally {
      kv.close();
    }
  });

  it('watch: events as they happen, then a cancel on the open stream', async () => {
    const child = spawn(ETCDCTL_BIN, ['--endpoints', m.endpoint, 'watch', 'w', '--prefix'], { env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 300));
      await ctl('put', 'w1', 'a');
      await ctl('put', 'w2', 'b');
      await ctl('del', 'w1');
      for (let i = 0; i < 100 && !out.includes('DELETE'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toBe('PUT\nw1\na\nPUT\nw2\nb\nDELETE\nw1\n\n');
    } finally {
      child.kill('SIGKILL');
    }
    // a grpc-js client: create, one event, cancel (the stream stays open), no event after
    const client = new (etcdGrpc().etcdserverpb.Watch)(m.endpoint, grpc.credentials.createInsecure());
    try {
      const stream = (client as unknown as { Watch(): grpc.ClientDuplexStream<object, Record<string, unknown>> }).Watch();
      const got: Record<string, unknown>[] = [];
      stream.on('data', (r: Record<string, unknown>) => got.push(r));
      stream.on('error', () => {});
      const wait = async (n: number): Promise<void> => {
        for (let i = 0; i < 100 && got.length < n; i++) await new Promise((r) => setTimeout(r, 20));
      };
      stream.write({ create_request: { key: Buffer.from('c') } });
      await wait(1);
      await ctl('put', 'c', '1');
      await wait(2);
      stream.write({ cancel_request: { watch_id: got[0]!.watch_id } });
      await wait(3);
      await ctl('put', 'c', '2');
      await new Promise((r) => setTimeout(r, 200));
      expect(got.map((r) => [r.created, r.canceled, (r.events as unknown[]).length])).toEqual([[true, false, 0], [false, false, 1], [false, true, 0]]);
      stream.cancel();
    } finally {
      client.close();
    }
  });

  it('lease grant, keep-alive, revoke', async () => {
    const id = /lease ([0-9a-f]+) granted with TTL\(30s\)/.exec(await ctl('lease', 'grant', '30'))![1]!;
    expect(await ctl('lease', 'keep-alive', '--once', id)).toBe(`lease ${id} keepalived with TTL(30)\n`);
    expect(await ctl('lease', 'revoke', id)).toBe(`lease ${id} revoked\n`);
    const r = await etcdctl(m, ['lease', 'keep-alive', '--once', id]);
    expect(r.stderr).toContain('etcdserver: requested lease not found');
  });

  it('snapshot save, endpoint status, member list, an unknown method', async () => {
    for (let i = 0; i < 20; i++) await ctl('put', `s${i}`, 'v'.repeat(10_000)); // a snapshot of several messages
    const file = join(await tempDir('js-h2-snap'), 's.db');
    expect(await ctl('snapshot', 'save', file)).toContain(`Snapshot saved at ${file}`);
    expect((await stat(file)).size).toBeGreaterThan(200_000);
    const status = JSON.parse(await ctl('endpoint', 'status', '-w', 'json')) as [{ Status: { version: string } }];
    expect(status[0].Status.version).toBe('3.4.23');
    expect(await ctl('member', 'list')).toContain(`, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false`);
    const client = new grpc.Client(m.endpoint, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<grpc.ServiceError>((resolve) => client.makeUnaryRequest('/etcdserverpb.KV/Nope', (b: Buffer) => b, (b: Buffer) => b,
        Buffer.alloc(0), (e) => resolve(e!)));
      expect([err.code, err.details]).toEqual([12, 'unknown method Nope for service etcdserverpb.KV']);
    } finally {
      client.close();
    }
  });

  it('auth: enable, a user put with its token, refused without one', async () => {
    await ctl('user', 'add', 'root:rootpw');
    await ctl('role', 'add', 'root');
    await ctl('user', 'grant-role', 'root', 'root');
    expect(await ctl('auth', 'enable')).toBe('Authentication Enabled\n');
    expect(await ctl('--user', 'root:rootpw', 'put', 'a', '1')).toBe('OK\n');
    const denied = await etcdctl(m, ['put', 'a', '2']);
    expect(denied.stderr).toContain('etcdserver: user name is empty');
    const auth = new (etcdGrpc().etcdserverpb.Auth)(m.endpoint, grpc.credentials.createInsecure());
    const kv = new (etcdGrpc().etcdserverpb.KV)(m.endpoint, grpc.credentials.createInsecure());
    try {
      const { token } = (await unary(auth, 'Authenticate', { name: 'root', password: 'rootpw' })) as { token: string };
      const res = await unary(kv, 'Range', { key: Buffer.from('a') }, token);
      expect((res.kvs as { value: Buffer }[])[0]!.value.toString()).toBe('1');
    } finally {
      auth.close();
      kv.close();
    }
    expect(await ctl('--user', 'root:rootpw', 'auth', 'disable')).toBe('Authentication Disabled\n');
  });

  it('stops cleanly with a watch open: GOAWAY, the watch cut after the grace period', async () => {
    const client = new (etcdGrpc().etcdserverpb.Watch)(m.endpoint, grpc.credentials.createInsecure());
    try {
      const stream = (client as unknown as { Watch(): grpc.ClientDuplexStream<object, Record<string, unknown>> }).Watch();
      const created = new Promise((r) => stream.once('data', r));
      const ended = new Promise<number>((r) => stream.on('error', (e: grpc.ServiceError) => r(e.code)));
      stream.write({ create_request: { key: Buffer.from('x') } });
      await created;
      expect(await m.stop()).toEqual({ code: 0, signal: null });
      expect(await ended).toBe(cutCode);
    } finally {
      client.close();
    }
  });
});
