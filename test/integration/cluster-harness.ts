// Clusters of real processes on 127.0.0.1: members of ours and of real etcd 3.4.23 in any mix,
// bootstrapped together with --initial-cluster-state new, optionally over TLS (certificates made by
// openssl in the test, see certs.ts). Every member is a pid this harness spawned; cleanup() in
// harness.ts kills them.
import { request } from 'node:https';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ETCD_BIN, ctlOk, freePort, spawnDaemon, tempDir, type Impl, type Member } from './harness.js';
import type { Certs } from './certs.js';

const READY_TIMEOUT_MS = 40_000;

/** A member of a cluster: a harness Member whose restart rejoins the cluster (optionally with more environment). */
export interface ClusterMember extends Omit<Member, 'restart'> {
  /**
   * Start again with the same flags (as a member of an existing cluster) and the cluster's environment
   * plus `env`; waits until healthy unless `wait` is false.
   */
  restart(opts?: { env?: Record<string, string>; wait?: boolean }): Promise<void>;
  /** Resolves when the current process exits. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

export interface ClusterOpts {
  certs?: Certs;
  /** Extra flags for every member. */
  args?: string[];
  /** Extra flags for one member, by its index in `impls` (after `args`). */
  memberArgs?: Record<number, string[]>;
  token?: string;
  /** Extra environment for every member. */
  env?: Record<string, string>;
}

/** The flags of a member serving clients and peers over mutual TLS with these certificates. */
export function tlsFlags(c: Certs): string[] {
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

/** Where a member lives: its name, URLs, etcdctl endpoint and data dir. */
export interface MemberPlace {
  name: string;
  clientUrl: string;
  peerUrl: string;
  endpoint: string;
  dataDir: string;
}

/** Spawns a member with these flags; its restart runs the same flags again (with more environment). */
export function clusterMember(impl: Impl, place: MemberPlace, args: string[], opts: { env?: Record<string, string>; certs?: Certs } = {}): ClusterMember {
  let proc = spawnDaemon(impl, args, opts.env);
  const m: ClusterMember = {
    impl,
    ...place,
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
    restart: async (r = {}) => {
      await m.kill();
      proc = spawnDaemon(impl, args, { ...opts.env, ...r.env });
      m.pid = proc.child.pid!;
      if (r.wait !== false) await waitHealthy([m], opts.certs);
    },
    exited: () => proc.exited,
  };
  return m;
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
  const members = defs.map((d, i) => {
    const args = [
      '--name', d.name, '--data-dir', d.dataDir, '--listen-client-urls', d.clientUrl, '--advertise-client-urls', d.clientUrl,
      '--listen-peer-urls', d.peerUrl, '--initial-advertise-peer-urls', d.peerUrl, '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new', '--initial-cluster-token', opts.token ?? 'it-cluster',
      ...(opts.certs ? tlsFlags(opts.certs) : []), ...(opts.args ?? []), ...(opts.memberArgs?.[i] ?? []),
    ];
    return clusterMember(d.impl, { ...d, endpoint: d.clientUrl.replace(/^https?:\/\//, '') }, args, { env: opts.env, certs: opts.certs });
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

interface Status {
  Endpoint: string;
  Status: { header: { member_id: number | string; raft_term: number }; leader: number | string; raftIndex: number };
}

async function statuses(ms: ClusterMember[]): Promise<Status[]> {
  const eps = ms.map((m) => m.endpoint).join(',');
  return JSON.parse(await ctlOk(eps, ['endpoint', 'status', '-w', 'json'])) as Status[];
}

/** The member every live member names as leader (waits for them to agree). */
export async function leaderOf(ms: ClusterMember[]): Promise<ClusterMember> {
  for (let i = 0; i < 100; i++) {
    const live = ms.filter((m) => m.alive());
    const st = await statuses(live).catch(() => []);
    const leaders = new Set(st.map((s) => String(s.Status.leader)));
    if (st.length === live.length && leaders.size === 1) {
      const id = [...leaders][0]!;
      const i2 = st.findIndex((s) => String(s.Status.header.member_id) === id);
      if (i2 >= 0) return live[i2]!;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no agreed leader');
}

/** `endpoint hashkv` of each member, in order. */
export async function hashKvs(ms: ClusterMember[]): Promise<string[]> {
  const out: string[] = [];
  for (const m of ms) {
    const r = JSON.parse(await ctlOk(m.endpoint, ['endpoint', 'hashkv', '-w', 'json'])) as Array<{ HashKV: { hash: number } }>;
    out.push(String(r[0]!.HashKV.hash));
  }
  return out;
}
