// Auth in a mixed cluster: two members of ours and one of real etcd 3.4.23. Users, roles and auth
// enable made through one member hold on every member (the entries are etcd's); a simple token made
// by Authenticate at one member is good at every other, ours or etcd's, since each assigns it when it
// applies that entry; a permission revoked through etcd's member stops the token at ours.
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { cleanup, ctlOk, etcdctl } from './harness.js';
import { unary } from './grpc-unary.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';

afterAll(cleanup);

describe('auth across a cluster of ours and etcd 3.4.23', () => {
  let ms: ClusterMember[] = [];

  it('users, roles and the enabled flag set through one member hold on every member', async () => {
    ms = await startCluster(['ours', 'etcd', 'ours'], { args: ['--bcrypt-cost', '4'] });
    const at = ms[0]!.endpoint;
    await ctlOk(at, ['user', 'add', 'root', '--new-user-password=rootpw']);
    await ctlOk(at, ['role', 'add', 'r']);
    await ctlOk(at, ['role', 'grant-permission', 'r', 'readwrite', 'foo', '--prefix']);
    await ctlOk(at, ['user', 'add', 'alice', '--new-user-password=alicepw']);
    await ctlOk(at, ['user', 'grant-role', 'alice', 'r']);
    await ctlOk(at, ['auth', 'enable']);
    for (const m of ms) {
      expect(await ctlOk(m.endpoint, ['user', 'list', '--user', 'root:rootpw'])).toBe('alice\nroot\n');
      expect(await ctlOk(m.endpoint, ['put', `foo-${m.name}`, 'v', '--user', 'alice:alicepw'])).toBe('OK\n');
      const refused = await etcdctl(m.endpoint, ['put', 'bar', 'v', '--user', 'alice:alicepw']);
      expect(refused.stderr).toContain('etcdserver: permission denied');
      const anon = await etcdctl(m.endpoint, ['get', 'foo']);
      expect(anon.stderr).toContain('etcdserver: user name is empty');
    }
  }, 120_000);

  it('a token from any member is good at every member, and a revoke through etcd stops it at ours', async () => {
    const pb = etcdGrpc();
    const creds = grpc.credentials.createInsecure();
    const auth = ms.map((m) => new pb.etcdserverpb.Auth(m.endpoint, creds));
    const kv = ms.map((m) => new pb.etcdserverpb.KV(m.endpoint, creds));
    try {
      for (const [i] of ms.entries()) {
        const { token } = await unary(auth[i]!, 'Authenticate', { name: 'alice', password: 'alicepw' });
        expect(String(token)).toMatch(/^[a-zA-Z]{16}\.\d+$/);
        for (const [j] of ms.entries()) {
          const r = await unary(kv[j]!, 'Range', { key: Buffer.from('foo'), range_end: Buffer.from('fop') }, String(token));
          expect(Number(r.count), `token of member ${i} at member ${j}`).toBe(3);
        }
      }
      const { token } = await unary(auth[0]!, 'Authenticate', { name: 'alice', password: 'alicepw' });
      await ctlOk(ms[1]!.endpoint, ['role', 'revoke-permission', 'r', 'foo', '--prefix', '--user', 'root:rootpw']);
      for (const k of [0, 2]) {
        await expect(unary(kv[k]!, 'Range', { key: Buffer.from('foo1') }, String(token))).rejects.toMatchObject({ details: 'etcdserver: permission denied' });
      }
      await expect(unary(kv[2]!, 'Range', { key: Buffer.from('foo1') }, 'notatoken')).rejects.toMatchObject({ details: 'etcdserver: invalid auth token' });
    } finally {
      for (const c of [...auth, ...kv]) c.close();
    }
  }, 120_000);
});
