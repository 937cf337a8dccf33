// The oracle: the same invalid requests sent to real etcd 3.4.23 and to our API (fake facade).
// Every refusal etcd makes at its API edge must be ours, code and text; requests etcd accepts
// must pass our validation (they reach the facade, which here answers "not capable").
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { etcdGrpc } from '../../../src/api/v3/proto.js';
import { EtcdError } from '../../../src/server/errors.js';
import { FakeWatchStream, fakeFacade, startServer, type Running } from './harness.js';

const ETCD = '/usr/bin/etcd';
const B = (s: string) => Buffer.from(s);
const MiB = 1024 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function connect(address: string) {
  const pb = etcdGrpc();
  const creds = grpc.credentials.createInsecure();
  return {
    kv: new pb.etcdserverpb.KV(address, creds, { 'grpc.max_send_message_length': 8 * MiB }),
    lease: new pb.etcdserverpb.Lease(address, creds),
    cluster: new pb.etcdserverpb.Cluster(address, creds),
    watch: new pb.etcdserverpb.Watch(address, creds),
    auth: new pb.etcdserverpb.Auth(address, creds),
  };
}
type Conn = ReturnType<typeof connect>;

function unary(client: grpc.Client, method: string, req: object): Promise<string> {
  return new Promise((resolve) =>
    (client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null) => void) => void>)[method]!(req, (e) =>
      resolve(e ? `${e.code} ${e.details}` : 'OK'),
    ),
  );
}

let etcd: ChildProcess;
let dir: string;
let ours: Running;
let theirs: Conn;
let mine: Conn;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'api-v3-oracle-'));
  const [client, peer] = [await freePort(), await freePort()];
  etcd = spawn(ETCD, [
    '--name', 'o', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `o=http://127.0.0.1:${peer}`,
  ], { stdio: 'ignore' });
  theirs = connect(`127.0.0.1:${client}`);
  for (let i = 0; (await unary(theirs.kv, 'Range', { key: B('ready') })) !== 'OK'; i++) {
    if (i > 200) throw new Error('etcd did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  ours = await startServer(
    fakeFacade({
      openWatchStream: (sink) => new FakeWatchStream(sink),
      leaseKeepAlive: async () => {
        throw new EtcdError('LeaseNotFound');
      },
    }),
  );
  mine = connect(ours.address);
});

afterAll(async () => {
  for (const c of [theirs, mine]) for (const x of Object.values(c ?? {})) x.close();
  await ours?.stop();
  if (etcd?.pid !== undefined && etcd.exitCode === null) {
    const exited = new Promise((r) => etcd.once('exit', r));
    etcd.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

const ranges = (n: number, p = 'k') => Array.from({ length: n }, (_, i) => ({ request_range: { key: B(p + i) } }));

const REFUSED: [string, keyof Conn, string, object][] = [
  ['Range without key', 'kv', 'Range', {}],
  ['Put without key', 'kv', 'Put', {}],
  ['Put ignore_value with value', 'kv', 'Put', { key: B('k'), value: B('v'), ignore_value: true }],
  ['Put ignore_lease with lease', 'kv', 'Put', { key: B('k'), lease: 5, ignore_lease: true }],
  ['DeleteRange without key', 'kv', 'DeleteRange', {}],
  ['Txn duplicate put', 'kv', 'Txn', { success: [{ request_put: { key: B('a') } }, { request_put: { key: B('a') } }] }],
  ['Txn put in deleted range', 'kv', 'Txn', { success: [{ request_delete_range: { key: B('a'), range_end: B('c') } }, { request_put: { key: B('b') } }] }],
  ['Txn empty op', 'kv', 'Txn', { success: [{}] }],
  ['Txn 129 ops', 'kv', 'Txn', { success: ranges(129) }],
  ['Txn compare without key', 'kv', 'Txn', { compare: [{ key: Buffer.alloc(0) }] }],
  ['Txn nested over budget', 'kv', 'Txn', { success: [...ranges(100), { request_txn: { success: ranges(29, 'n') } }] }],
  ['Put over max-request-bytes', 'kv', 'Put', { key: B('k'), value: Buffer.alloc(1.5 * MiB + 100) }],
  ['Put over the gRPC limit', 'kv', 'Put', { key: B('k'), value: Buffer.alloc(2 * MiB + 100) }],
  ['MemberAdd without scheme', 'cluster', 'MemberAdd', { peerURLs: ['127.0.0.1:2380'] }],
  ['MemberAdd with a path', 'cluster', 'MemberAdd', { peerURLs: ['http://127.0.0.1:2380/'] }],
  // auth disabled, empty auth store (our facade has none: the API answers as etcd)
  ['AuthEnable without root', 'auth', 'AuthEnable', {}],
  ['Authenticate', 'auth', 'Authenticate', { name: 'root', password: 'x' }],
  ['UserAdd with empty name', 'auth', 'UserAdd', { name: '', password: 'x' }],
  ['UserGet', 'auth', 'UserGet', { name: 'u' }],
  ['UserDelete', 'auth', 'UserDelete', { name: 'u' }],
  ['UserChangePassword', 'auth', 'UserChangePassword', { name: 'u', password: 'p' }],
  ['UserGrantRole', 'auth', 'UserGrantRole', { user: 'u', role: 'r' }],
  ['UserRevokeRole', 'auth', 'UserRevokeRole', { name: 'u', role: 'r' }],
  ['RoleAdd with empty name', 'auth', 'RoleAdd', { name: '' }],
  ['RoleGet', 'auth', 'RoleGet', { role: 'r' }],
  ['RoleDelete', 'auth', 'RoleDelete', { role: 'r' }],
  ['RoleGrantPermission', 'auth', 'RoleGrantPermission', { name: 'r', perm: { permType: 'READ', key: B('k') } }],
  ['RoleRevokePermission', 'auth', 'RoleRevokePermission', { role: 'r', key: B('k') }],
];

const AUTH_OK: [string, string, object][] = [
  ['AuthDisable', 'AuthDisable', {}],
  ['UserList', 'UserList', {}],
  ['RoleList', 'RoleList', {}],
];

const ACCEPTED: [string, keyof Conn, string, object][] = [
  ['Txn delete to "\\0" then put', 'kv', 'Txn', { success: [{ request_delete_range: { key: B('a'), range_end: Buffer.from([0]) } }, { request_put: { key: B('b') } }] }],
  ['Txn same put in then and else', 'kv', 'Txn', { success: [{ request_put: { key: B('t') } }], failure: [{ request_put: { key: B('t') } }] }],
  ['Range with a 1.6 MiB key', 'kv', 'Range', { key: Buffer.alloc(1.6 * MiB, 1) }],
];

describe('API-edge validation equals etcd 3.4.23', () => {
  it.each(REFUSED)('%s', async (_n, svc, method, req) => {
    const want = await unary(theirs[svc], method, req);
    expect(want).not.toBe('OK');
    expect(await unary(mine[svc], method, req)).toBe(want);
  });

  it.each(ACCEPTED)('%s passes validation', async (_n, svc, method, req) => {
    expect(await unary(theirs[svc], method, req)).toBe('OK');
    expect(await unary(mine[svc], method, req)).toBe('14 etcdserver: not capable'); // reached the facade
  });
});

async function watchTranscript(c: Conn): Promise<string[]> {
  const w = c.watch.Watch();
  const got: string[] = [];
  w.on('data', (r) => got.push(`id=${r.watch_id} created=${r.created} canceled=${r.canceled} reason=${r.cancel_reason} events=${r.events.length}`));
  w.on('error', () => undefined);
  const reqs = [
    { create_request: { key: B('x'), watch_id: 5 } },
    { create_request: { key: B('y'), watch_id: 5 } },
    { create_request: { key: B('b'), range_end: B('a') } },
    { create_request: { key: B('z') } },
    { cancel_request: { watch_id: 999 } },
    { progress_request: {} },
    { cancel_request: { watch_id: 5 } },
    {},
    { progress_request: {} },
  ];
  for (const r of reqs) w.write(r);
  for (let i = 0; got.length < 7 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
  w.cancel();
  return got;
}

function unaryResult(client: grpc.Client, method: string, req: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, res?: object) => void) => void>)[method]!(req, (e, res) =>
      e ? reject(e) : resolve(res as Record<string, unknown>),
    ),
  );
}

describe('auth disabled answers equal etcd 3.4.23', () => {
  it.each(AUTH_OK)('%s succeeds with the same body', async (_n, method, req) => {
    const want = await unaryResult(theirs.auth, method, req);
    const got = await unaryResult(mine.auth, method, req);
    const { header: wantHeader, ...wantBody } = want;
    const { header: gotHeader, ...gotBody } = got;
    expect(gotBody).toEqual(wantBody);
    expect(Object.keys(gotHeader as object).sort()).toEqual(Object.keys(wantHeader as object).sort());
  });
});

describe('watch control protocol equals etcd 3.4.23', () => {
  it('creates, refuses, cancels and answers progress requests alike', async () => {
    const want = await watchTranscript(theirs);
    expect(want).toHaveLength(7);
    expect(await watchTranscript(mine)).toEqual(want);
  });

  it('keep-alive of an unknown lease answers TTL 0 on the stream', async () => {
    const ttl = (c: Conn) =>
      new Promise<string>((resolve) => {
        const s = c.lease.LeaseKeepAlive();
        s.on('data', (r) => {
          resolve(`${r.ID}/${r.TTL}`);
          s.cancel();
        });
        s.on('error', () => undefined);
        s.write({ ID: 12345 });
      });
    expect(await ttl(mine)).toBe(await ttl(theirs));
  });
});
