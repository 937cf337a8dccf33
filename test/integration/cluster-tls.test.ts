// The seeds' deployment: three members of ours over mutual TLS (peer and client), certificates made
// by openssl in the test. etcdctl with the client certificate works against every member, with
// --cluster too; a client or a peer holding a stranger's certificate is refused, and the refusal
// is logged.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, tempDir } from './harness.js';
import { makeCerts, type Certs } from './certs.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';

let certs: Certs;
let ms: ClusterMember[] = [];

const tlsArgs = (c: Certs, who: 'client' | 'stranger' = 'client'): string[] =>
  ['--cacert', c.caCert, '--cert', who === 'client' ? c.clientCert : c.strangerCert, '--key', who === 'client' ? c.clientKey : c.strangerKey];

/** An https GET with the given client certificate: the status, or the error that ended it. */
function get(url: string, cert: string, key: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { ca: readFileSync(certs.caCert), cert: readFileSync(cert), key: readFileSync(key), timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

beforeAll(async () => {
  certs = makeCerts(await tempDir('it-certs-'));
  ms = await startCluster(['ours', 'ours', 'ours'], { certs });
}, 90_000);
afterAll(cleanup);

describe('a 3-member cluster of ours over mutual TLS', () => {
  it('serves etcdctl with the client certificate at every member, and the --cluster forms', async () => {
    const all = ms.map((m) => m.endpoint).join(',');
    expect(await ctlOk(ms[0]!.endpoint, [...tlsArgs(certs), 'put', 'foo', 'bar'])).toBe('OK\n');
    for (const m of ms) expect(await ctlOk(m.endpoint, [...tlsArgs(certs), 'get', '/', '--prefix', '--keys-only'])).toBe('');
    for (const m of ms) expect(await ctlOk(m.endpoint, [...tlsArgs(certs), 'get', 'foo'])).toBe('foo\nbar\n');
    const list = await ctlOk(all, [...tlsArgs(certs), 'member', 'list']);
    for (const m of ms) expect(list).toContain(`, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false`);
    const health = await etcdctl(ms[1]!.endpoint, [...tlsArgs(certs), 'endpoint', 'health', '--cluster']);
    expect(health.stderr.match(/is healthy/g) ?? health.stdout.match(/is healthy/g)).toHaveLength(3);
    const hashes = JSON.parse(await ctlOk(ms[2]!.endpoint, [...tlsArgs(certs), 'endpoint', 'hashkv', '--cluster', '-w', 'json'])) as Array<{ HashKV: { hash: number } }>;
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes.map((h) => h.HashKV.hash)).size).toBe(1);
    const status = JSON.parse(await ctlOk(ms[0]!.endpoint, [...tlsArgs(certs), 'endpoint', 'status', '--cluster', '-w', 'json'])) as Array<{ Status: { leader: string } }>;
    expect(new Set(status.map((s) => String(s.Status.leader))).size).toBe(1);
  }, 60_000);

  it('refuses a client whose certificate a stranger signed', async () => {
    const r = await etcdctl(ms[0]!.endpoint, [...tlsArgs(certs, 'stranger'), '--command-timeout=2s', '--dial-timeout=2s', 'get', 'foo']);
    expect(r.code).not.toBe(0);
    expect(await get(`${ms[0]!.clientUrl}/health`, certs.strangerCert, certs.strangerKey)).not.toBe(200);
    expect(await get(`${ms[0]!.clientUrl}/health`, certs.clientCert, certs.clientKey)).toBe(200);
  }, 30_000);

  it('refuses a peer whose certificate a stranger signed, and logs it', async () => {
    const refused = await get(`${ms[1]!.peerUrl}/members`, certs.strangerCert, certs.strangerKey);
    expect(refused).not.toBe(200);
    expect(await get(`${ms[1]!.peerUrl}/members`, certs.serverCert, certs.serverKey)).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(ms[1]!.logs()).toMatch(/rejected connection/);
  }, 30_000);
});
