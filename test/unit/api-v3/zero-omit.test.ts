// Responses encoded through proto-loader's definitions leave proto3 zero values off the wire, as
// etcd's gogoproto encoders do (found by differential fuzzing against etcd 3.4.23: our LeaseGrant
// carried an empty `error` field, a TimeToLive of an unknown lease `grantedTTL: 0`).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeFacade, startServer, type Running } from './harness.js';

const id = (b: Buffer): Buffer => b;
let server: Running;
let client: grpc.Client;

function raw(path: string, req: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(path, id, id, req, new grpc.Metadata(), (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

beforeAll(async () => {
  server = await startServer(
    fakeFacade({
      leaseGrant: async () => ({ ID: '5', TTL: 30, error: '' }),
      leaseTimeToLive: async () => ({ ID: '6', TTL: -1, grantedTTL: 0, keys: [] }),
      memberList: async () => ({ members: [{ ID: '1', name: 'a', peerURLs: [], clientURLs: [], isLearner: false }] }),
    }),
  );
  client = new grpc.Client(server.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.stop();
});

describe('zero values are not encoded', () => {
  it('LeaseGrant: no empty error field', async () => {
    expect((await raw('/etcdserverpb.Lease/LeaseGrant', Buffer.from([0x08, 0x1e]))).toString('hex')).toBe('1005181e');
  });

  it('LeaseTimeToLive of an unknown lease: no grantedTTL 0 (TTL -1 stays)', async () => {
    const res = await raw('/etcdserverpb.Lease/LeaseTimeToLive', Buffer.from([0x08, 0x06]));
    expect(res.toString('hex')).toBe(`1006${'18ffffffffffffffffff01'}`);
  });

  it('MemberList: no isLearner false', async () => {
    expect((await raw('/etcdserverpb.Cluster/MemberList', Buffer.alloc(0))).toString('hex')).toBe('120508011201' + '61');
  });
});
