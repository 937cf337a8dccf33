// Unary services through a real grpc-js client on loopback, with a fake facade: validation
// refuses before the facade is called, EtcdError reaches the client as etcd's code + text.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type ServiceError } from '@grpc/grpc-js';
import { EtcdError } from '../../../src/server/errors.js';
import type { EtcdServerFacade } from '../../../src/server/facade.js';
import { call, clients, fakeFacade, header, startServer, type Running } from './harness.js';

const B = (s: string) => Buffer.from(s);

const calls: string[] = [];
let stored: unknown;
const snapshotImage = Buffer.alloc(100_000, 7);
const facade: Partial<EtcdServerFacade> = {
  range: async (r) => {
    if (r.revision === '3') throw new EtcdError('Compacted', 'compacted at 5');
    return { header: header(), kvs: [{ key: r.key, value: Buffer.from('bar'), create_revision: 2, mod_revision: 2, version: 1 }], count: 1 };
  },
  put: async (r) => {
    stored = r;
    return { header: header(42) };
  },
  txn: async () => ({ header: header(), succeeded: true }),
  leaseGrant: async (r) => ({ header: header(), ID: r.ID, TTL: r.TTL }),
  leaseKeepAlive: async (r) => {
    if (r.ID === '99') throw new EtcdError('LeaseNotFound');
    return { header: header(), ID: r.ID, TTL: 30 };
  },
  authenticate: async () => {
    throw new EtcdError('AuthNotEnabled');
  },
  memberAdd: async () => ({ header: header() }),
  snapshot: async () => ({
    size: snapshotImage.length,
    chunks: (async function* () {
      yield snapshotImage.subarray(0, 50_000);
      yield snapshotImage.subarray(50_000);
    })(),
  }),
};

let srv: Running;
let c: ReturnType<typeof clients>;
beforeAll(async () => {
  srv = await startServer(fakeFacade(facade, calls), { maxRequestBytes: 1024 });
  c = clients(srv.address);
});
afterAll(async () => {
  c.close();
  await srv.stop();
});

async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  const err = (await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: ServiceError) => e,
  )) as ServiceError;
  return { code: err.code, details: err.details };
}

describe('KV', () => {
  it('answers Range with the facade response, 64-bit ids intact', async () => {
    const res = await call(c.kv.Range.bind(c.kv), { key: Buffer.from('foo') });
    expect(res.header).toEqual({ cluster_id: '15118495548433857066', member_id: '9372538179322589801', revision: '41', raft_term: '7' });
    expect(res.kvs[0]!.value.toString()).toBe('bar');
  });

  it.each([
    ['Range without key', () => call(c.kv.Range.bind(c.kv), {}), 'etcdserver: key is not provided'],
    ['Put without key', () => call(c.kv.Put.bind(c.kv), { value: Buffer.from('x') }), 'etcdserver: key is not provided'],
    ['Put ignore_value + value', () => call(c.kv.Put.bind(c.kv), { key: B('k'), value: B('v'), ignore_value: true }), 'etcdserver: value is provided'],
    ['Put ignore_lease + lease', () => call(c.kv.Put.bind(c.kv), { key: B('k'), lease: 5, ignore_lease: true }), 'etcdserver: lease is provided'],
    ['DeleteRange without key', () => call(c.kv.DeleteRange.bind(c.kv), {}), 'etcdserver: key is not provided'],
    ['Txn duplicate', () => call(c.kv.Txn.bind(c.kv), { success: [{ request_put: { key: B('a') } }, { request_put: { key: B('a') } }] }), 'etcdserver: duplicate key given in txn request'],
    ['Txn too many ops', () => call(c.kv.Txn.bind(c.kv), { success: Array.from({ length: 129 }, (_, i) => ({ request_put: { key: B(`k${i}`) } })) }), 'etcdserver: too many operations in txn request'],
  ])('refuses %s with InvalidArgument before the facade', async (_n, run, message) => {
    const before = calls.length;
    expect(await failure(run())).toEqual({ code: status.INVALID_ARGUMENT, details: message });
    expect(calls.length).toBe(before);
  });

  it('maps an EtcdError thrown by the facade', async () => {
    expect(await failure(call(c.kv.Range.bind(c.kv), { key: B('foo'), revision: 3 }))).toEqual({
      code: status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
  });

  it('refuses a raft-bound request over --max-request-bytes, but not a Range', async () => {
    const big = Buffer.alloc(2000, 1);
    stored = undefined;
    expect(await failure(call(c.kv.Put.bind(c.kv), { key: B('k'), value: big }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'etcdserver: request is too large',
    });
    expect(stored).toBeUndefined();
    const res = await call(c.kv.Range.bind(c.kv), { key: big });
    expect(res.kvs[0]!.key.length).toBe(2000);
    // a read-only txn does not go through raft either
    await expect(call(c.kv.Txn.bind(c.kv), { success: [{ request_range: { key: big } }] })).resolves.toMatchObject({ succeeded: true });
  });

  it('lets gRPC refuse what exceeds max-request-bytes + 512 KiB', async () => {
    const f = await failure(call(c.kv.Put.bind(c.kv), { key: B('k'), value: Buffer.alloc(1024 + 512 * 1024 + 10) }));
    expect(f.code).toBe(status.RESOURCE_EXHAUSTED);
    // Go grpc's text, as etcd answers (observed: "... (2097260 vs. 2097152)" with default limits);
    // the message is the value plus 7 bytes of framing (key field 3, value tag + 3-byte length)
    expect(f.details).toBe(`grpc: received message larger than max (${1024 + 512 * 1024 + 10 + 7} vs. ${1024 + 512 * 1024})`);
  });

  it('hands the decoded request to the facade (int64 as decimal strings)', async () => {
    await call(c.kv.Put.bind(c.kv), { key: B('k'), value: B('v'), lease: '9223372036854775807' });
    expect(stored).toMatchObject({ key: Buffer.from('k'), value: Buffer.from('v'), lease: '9223372036854775807' });
  });
});

describe('Lease', () => {
  it('grants with a client-chosen ID beyond 2^53', async () => {
    const res = await call(c.lease.LeaseGrant.bind(c.lease), { ID: '7587861231231231231', TTL: 60 });
    expect(res).toMatchObject({ ID: '7587861231231231231', TTL: '60' });
  });

  it('keepalive: answers in order; unknown lease gets TTL 0', async () => {
    const stream = c.lease.LeaseKeepAlive();
    const got: { ID: string; TTL: string }[] = [];
    const done = new Promise<void>((resolve) => {
      stream.on('data', (r) => {
        got.push({ ID: r.ID, TTL: r.TTL });
        if (got.length === 3) resolve();
      });
    });
    stream.write({ ID: 1 });
    stream.write({ ID: 99 });
    stream.write({ ID: 2 });
    await done;
    stream.end();
    expect(got).toEqual([
      { ID: '1', TTL: '30' },
      { ID: '99', TTL: '0' },
      { ID: '2', TTL: '30' },
    ]);
  });
});

describe('Cluster, Auth, Maintenance, Health', () => {
  it('MemberAdd refuses malformed peer URLs', async () => {
    expect(await failure(call(c.cluster.MemberAdd.bind(c.cluster), { peerURLs: ['127.0.0.1:2380'] }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'etcdserver: given member URLs are invalid',
    });
    await expect(call(c.cluster.MemberAdd.bind(c.cluster), { peerURLs: ['http://127.0.0.1:2380'] })).resolves.toBeTruthy();
  });

  it('Authenticate without auth enabled: FailedPrecondition', async () => {
    expect(await failure(call(c.auth.Authenticate.bind(c.auth), { name: 'root', password: 'x' }))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'etcdserver: authentication is not enabled',
    });
  });

  it('Snapshot streams the image in 32 KiB pieces and a sha256 trailer', async () => {
    const stream = c.maintenance.Snapshot({});
    const msgs: { remaining_bytes: string; blob: Buffer }[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (m) => msgs.push(m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const body = Buffer.concat(msgs.slice(0, -1).map((m) => m.blob));
    expect(body.equals(snapshotImage)).toBe(true);
    expect(msgs.at(-1)!.blob.equals(createHash('sha256').update(snapshotImage).digest())).toBe(true);
    expect(msgs.every((m) => m.blob.length <= 32 * 1024)).toBe(true);
    expect(msgs.map((m) => Number(m.remaining_bytes)).at(-2)).toBe(0);
    expect(Number(msgs[0]!.remaining_bytes)).toBe(snapshotImage.length - msgs[0]!.blob.length);
  });

  it('Health.Check answers SERVING for "" and NOT_FOUND otherwise', async () => {
    expect(await call(c.health.Check.bind(c.health), { service: '' })).toEqual({ status: 'SERVING' });
    expect((await failure(call(c.health.Check.bind(c.health), { service: 'nope' }))).code).toBe(status.NOT_FOUND);
  });

  it('an unimplemented facade method surfaces as its EtcdError', async () => {
    expect(await failure(call(c.maintenance.Defragment.bind(c.maintenance), {}))).toEqual({
      code: status.UNAVAILABLE,
      details: 'etcdserver: not capable',
    });
  });
});
