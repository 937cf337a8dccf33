// Clusters of real processes on 127.0.0.1: members of ours and of real etcd 3.4.23 in any mix,
// bootstrapped together with --initial-cluster-state new, optionally over TLS (certificates made by
// openssl in the test, see certs.ts). Every member is a pid this harness spawned; cleanup() in
// harness.ts kills them.
import { request } from 'node:https';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ETCD_BIN, freePort, spawnDaemon, tempDir, type Impl, type Member } from './harness.js';
import type { Certs } from './certs.js';

const READY_TIMEOUT_MS = 40_000;

/** A member of a cluster: a harness Member (its restart rejoins the cluster) that can say if it lives. */
export interface ClusterMember extends Member {
  alive(): boolean;
}

export interface ClusterOpts {
  certs?: Certs;
  /** Extra flags for every member. */
  args?: string[];
  token?: string;
}

function tlsFlags(c: Certs): string[] {
  return [
    '--cert-file', c.serverCert, '--key-file', c.serverKey, '--trusted-ca-file', c.caCert, '--client-cert-auth',
    '--peer-cert-file', c.serverCert, '--peer-key-file', c.serverKey, '--peer-trusted-ca-file', c.caCert, '--peer-client-cert-auth',
  ];
}

/** GET /health answered {"health":"true"} (over TLS with the client certificate when there are certs). */
export async function isHealthy(clientUrl: string, certs?: Certs): Promise<boolean> {
  try {
    if (!certs) {
      const r = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return (await r.text()).includes('"health":"true"');
    }
    const { readFileSync } = await import('node:fs');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${clientUrl}/health`, {
        ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), timeout: 2000,
      }, (res) => {
        let s = '';
        res.on('data', (d: Buffer) => (s += d.toString()));
        res.on('end', () => resolve(s));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
    return body.includes('"health":"true"');
  } catch {
    return false;
  }
}

/** Starts one member per entry of `impls` as one new cluster; resolves when every one is healthy. */
export async function startCluster(impls: Impl[], opts: ClusterOpts = {}): Promise<ClusterMember[]> {
  if (impls.includes('etcd') && !existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} missing: apt-get install -y etcd-server`);
  const scheme = opts.certs ? 'https' : 'http';
  const dir = await tempDir('it-cluster-');
  const ports = new Set<number>();
  while (ports.size < impls.length * 2) ports.add(await freePort());
  const [...p] = ports;
  const defs = impls.map((impl, i) => ({
    impl, name: `m${i}`, clientUrl: `${scheme}://127.0.0.1:${p[2 * i]}`, peerUrl: `${scheme}://127.0.0.1:${p[2 * i + 1]}`, dataDir: join(dir, `m${i}`),
  }));
  const initialCluster = defs.map((d) => `${d.name}=${d.peerUrl}`).join(',');
  const members = defs.map((d) => {
    const args = [
      '--name', d.name, '--data-dir', d.dataDir, '--listen-client-urls', d.clientUrl, '--advertise-client-urls', d.clientUrl,
      '--listen-peer-urls', d.peerUrl, '--initial-advertise-peer-urls', d.peerUrl, '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new', '--initial-cluster-token', opts.token ?? 'it-cluster',
      ...(opts.certs ? tlsFlags(opts.certs) : []), ...(opts.args ?? []),
    ];
    let proc = spawnDaemon(d.impl, args);
    const m: ClusterMember = {
      ...d,
      endpoint: d.clientUrl.replace(/^https?:\/\//, ''),
      pid: proc.child.pid!,
      logs: () => proc.out.text,
      alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
      kill: async () => {
        if (!m.alive()) return;
        proc.child.kill('SIGKILL');
        await proc.exited;
      },
      stop: async () => {
        proc.child.kill('SIGTERM');
        return proc.exited;
      },
      restart: async () => {
        await m.kill();
        proc = spawnDaemon(d.impl, args);
        m.pid = proc.child.pid!;
        await waitHealthy([m], opts.certs);
      },
    };
    return m;
  });
  await waitHealthy(members, opts.certs);
  return members;
}

/** Waits until every member answers healthy; throws with their logs when one exits or time runs out. */
export async function waitHealthy(members: ClusterMember[], certs?: Certs, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(members);
  while (pending.size > 0) {
    for (const m of [...pending]) {
      if (!m.alive()) throw new Error(`${m.impl} member ${m.name} exited:\n${m.logs()}`);
      if (await isHealthy(m.clientUrl, certs)) pending.delete(m);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`not healthy within ${timeoutMs} ms: ${[...pending].map((m) => `${m.impl} ${m.name}:\n${m.logs().slice(-4000)}`).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
