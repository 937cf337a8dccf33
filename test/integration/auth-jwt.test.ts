// JWT tokens across a cluster of ours and real etcd 3.4.23 sharing one RS256 key pair (made here by
// openssl): a token signed by either member is taken by both, with the same header and claims; a
// watch created with one is served; an auth change makes both refuse the token's old revision alike.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { cleanup, ctlOk, tempDir } from './harness.js';
import { unary } from './grpc-unary.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';

afterAll(cleanup);

/** The first answer of a watch created with `token`. */
function watchOnce(client: grpc.Client, key: string, token: string): Promise<Record<string, unknown>> {
  const md = new grpc.Metadata();
  md.set('token', token);
  const call = (client as unknown as { Watch(md: grpc.Metadata): grpc.ClientDuplexStream<object, Record<string, unknown>> }).Watch(md);
  return new Promise((resolve, reject) => {
    call.on('data', (r: Record<string, unknown>) => {
      resolve(r);
      call.cancel();
    });
    call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? undefined : reject(e)));
    call.write({ create_request: { key: Buffer.from(key) } });
  });
}

const part = (token: string, i: number): string => Buffer.from(token.split('.')[i]!, 'base64url').toString();

describe('JWT tokens in a cluster of ours and etcd 3.4.23 with shared keys', () => {
  let ms: ClusterMember[] = [];

  it('a token signed by either member is good at both', async () => {
    const dir = await tempDir('it-jwt-');
    const priv = join(dir, 'jwt.pem');
    const pub = join(dir, 'jwt.pub');
    execFileSync('openssl', ['genrsa', '-out', priv, '2048'], { stdio: 'ignore' });
    execFileSync('openssl', ['rsa', '-in', priv, '-pubout', '-out', pub], { stdio: 'ignore' });
    ms = await startCluster(['ours', 'etcd'], { args: ['--bcrypt-cost', '4', '--auth-token', `jwt,pub-key=${pub},priv-key=${priv},sign-method=RS256,ttl=10m`] });
    const at = ms[0]!.endpoint;
    await ctlOk(at, ['user', 'add', 'root', '--new-user-password=rootpw']);
    await ctlOk(at, ['role', 'add', 'r']);
    await ctlOk(at, ['role', 'grant-permission', 'r', 'readwrite', 'foo', '--prefix']);
    await ctlOk(at, ['user', 'add', 'alice', '--new-user-password=alicepw']);
    await ctlOk(at, ['user', 'grant-role', 'alice', 'r']);
    await ctlOk(at, ['auth', 'enable']);
    for (const m of ms) expect(await ctlOk(m.endpoint, ['put', `foo-${m.name}`, 'v', '--user', 'alice:alicepw'])).toBe('OK\n');

    const pb = etcdGrpc();
    const creds = grpc.credentials.createInsecure();
    const auth = ms.map((m) => new pb.etcdserverpb.Auth(m.endpoint, creds));
    const kv = ms.map((m) => new pb.etcdserverpb.KV(m.endpoint, creds));
    const watch = ms.map((m) => new pb.etcdserverpb.Watch(m.endpoint, creds));
    try {
      const tokens: string[] = [];
      for (const [i, m] of ms.entries()) {
        const token = String((await unary(auth[i]!, 'Authenticate', { name: 'alice', password: 'alicepw' })).token);
        tokens.push(token);
        expect(part(token, 0), m.impl).toBe('{"alg":"RS256","typ":"JWT"}');
        expect(part(token, 1), m.impl).toMatch(/^\{"exp":\d+,"revision":\d+,"username":"alice"\}$/);
        for (const [j, n] of ms.entries()) {
          const r = await unary(kv[j]!, 'Range', { key: Buffer.from('foo'), range_end: Buffer.from('fop') }, token);
          expect(Number(r.count), `token of ${m.impl} at ${n.impl}`).toBe(2);
          const w = await watchOnce(watch[j]!, 'foo', token);
          expect(w, `watch with the token of ${m.impl} at ${n.impl}`).toMatchObject({ created: true, canceled: false });
        }
      }
      // both members wrote the same claims (but for exp)
      expect(part(tokens[0]!, 1).replace(/"exp":\d+/, '')).toBe(part(tokens[1]!, 1).replace(/"exp":\d+/, ''));
      // an auth change through etcd: the tokens' revision is old at both
      await ctlOk(ms[1]!.endpoint, ['role', 'revoke-permission', 'r', 'foo', '--prefix', '--user', 'root:rootpw']);
      for (const [j, n] of ms.entries()) {
        for (const token of tokens) {
          await expect(unary(kv[j]!, 'Put', { key: Buffer.from('foo1'), value: Buffer.from('v') }, token), n.impl)
            .rejects.toMatchObject({ details: 'etcdserver: revision of auth store is old' });
        }
        await expect(unary(kv[j]!, 'Range', { key: Buffer.from('foo1') }, `${tokens[0]!}x`), n.impl).rejects.toMatchObject({ details: 'etcdserver: invalid auth token' });
      }
    } finally {
      for (const c of [...auth, ...kv, ...watch]) c.close();
    }
  }, 120_000);
});
