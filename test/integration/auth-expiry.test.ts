// A simple token's life (--auth-token-ttl=1): good while used, "invalid auth token" after it has gone
// unused for longer than its ttl, at ours and at real etcd 3.4.23 alike (etcd sweeps once a second:
// the idle wait leaves room for that).
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { cleanup, ctlOk, startEtcd, startMember, type Member } from './harness.js';
import { unary } from './grpc-unary.js';

afterAll(cleanup);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('--auth-token-ttl: ours and etcd 3.4.23', () => {
  it('a token lives while used and goes after ttl unused', async () => {
    const args = ['--bcrypt-cost', '4', '--auth-token-ttl', '1'];
    const ms: Member[] = await Promise.all([startMember({ args }), startEtcd({ args })]);
    const pb = etcdGrpc();
    const clients: grpc.Client[] = [];
    try {
      const tokens = await Promise.all(ms.map(async (m) => {
        await ctlOk(m, ['user', 'add', 'root', '--new-user-password=rootpw']);
        await ctlOk(m, ['auth', 'enable']);
        const auth = new pb.etcdserverpb.Auth(m.endpoint, grpc.credentials.createInsecure());
        clients.push(auth);
        return String((await unary(auth, 'Authenticate', { name: 'root', password: 'rootpw' })).token);
      }));
      const kv = ms.map((m) => new pb.etcdserverpb.KV(m.endpoint, grpc.credentials.createInsecure()));
      clients.push(...kv);
      const range = (i: number): Promise<Record<string, unknown>> => unary(kv[i]!, 'Range', { key: Buffer.from('k') }, tokens[i]);
      for (let n = 0; n < 3; n++) {
        // each use starts the token's life again
        for (const [i, m] of ms.entries()) expect(await range(i), m.impl).toHaveProperty('header');
        await sleep(500);
      }
      await sleep(3000);
      for (const [i, m] of ms.entries()) await expect(range(i), m.impl).rejects.toMatchObject({ details: 'etcdserver: invalid auth token' });
    } finally {
      for (const c of clients) c.close();
    }
  }, 60_000);
});
