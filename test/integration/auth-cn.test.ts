// Client certificate common names as users (etcd's AuthInfoFromTLS under --client-cert-auth), in a
// cluster of ours and etcd 3.4.23 over mutual TLS with certificates from certs.ts: without a token,
// a request runs as its certificate's CN at both members; the CN goes in the proposed request's
// header, so the other implementation's applier checks the same user (a write refused there would
// leave the members apart); a token still wins over the certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, tempDir } from './harness.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';
import { issueClientCert, makeCerts, type Certs } from './certs.js';

let certs: Certs;
let alice: { cert: string; key: string };

beforeAll(async () => {
  const dir = await tempDir('it-cn-certs-');
  certs = makeCerts(dir);
  alice = issueClientCert(dir, 'alice', 'alice');
});
afterAll(cleanup);

describe('certificate common names as users, ours and etcd 3.4.23 in one cluster', () => {
  let ms: ClusterMember[] = [];
  const asRoot = (): Record<string, string> => ({ ETCDCTL_CACERT: certs.caCert, ETCDCTL_CERT: certs.clientCert, ETCDCTL_KEY: certs.clientKey });
  const asAlice = (): Record<string, string> => ({ ETCDCTL_CACERT: certs.caCert, ETCDCTL_CERT: alice.cert, ETCDCTL_KEY: alice.key });

  it('a request without a token is made as its certificate\'s CN, at either member', async () => {
    ms = await startCluster(['ours', 'etcd'], { certs, args: ['--bcrypt-cost', '4'] });
    const at = ms[0]!.endpoint;
    for (const args of [
      ['user', 'add', 'root', '--new-user-password=rootpw'], ['role', 'add', 'r'], ['role', 'grant-permission', 'r', 'readwrite', 'foo', '--prefix'],
      ['user', 'add', 'alice', '--no-password'], ['user', 'grant-role', 'alice', 'r'], ['auth', 'enable'],
    ]) await ctlOk(at, args, { env: asRoot() });
    for (const m of ms) {
      // the client certificate of makeCerts is CN=root: root without a password
      expect(await ctlOk(m.endpoint, ['user', 'list'], { env: asRoot() }), m.impl).toBe('alice\nroot\n');
      expect(await ctlOk(m.endpoint, ['put', `foo-${m.impl}`, 'v'], { env: asAlice() }), m.impl).toBe('OK\n');
      expect(await ctlOk(m.endpoint, ['txn'], { env: asAlice(), input: `value("foo-${m.impl}") = "v"\n\nput foo-txn-${m.impl} v\n\n\n` }), m.impl).toBe('SUCCESS\n\nOK\n');
      const denied = await etcdctl(m.endpoint, ['put', 'bar', 'v'], { env: asAlice() });
      expect(denied.stderr, m.impl).toContain('etcdserver: permission denied');
      const notRoot = await etcdctl(m.endpoint, ['user', 'list'], { env: asAlice() });
      expect(notRoot.stderr, m.impl).toContain('etcdserver: permission denied');
      // a token is the user, whatever the certificate says
      expect(await ctlOk(m.endpoint, ['put', `bar-${m.impl}`, 'v', '--user', 'root:rootpw'], { env: asAlice() }), m.impl).toBe('OK\n');
    }
    // every write proposed at one member was applied at the other as the same user
    const keys = await Promise.all(ms.map((m) => ctlOk(m.endpoint, ['get', '', '--from-key', '--keys-only'], { env: asRoot() })));
    expect(keys[0]!.split('\n').filter((l) => l !== '')).toEqual(['bar-etcd', 'bar-ours', 'foo-etcd', 'foo-ours', 'foo-txn-etcd', 'foo-txn-ours']);
    expect(keys[1]).toBe(keys[0]);
  }, 120_000);
});
