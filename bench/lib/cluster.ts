// Three members of one implementation (ours or real etcd 3.4) bootstrapped as one new cluster on
// 127.0.0.1 for `bench:compare --cluster`: free ports, a fresh temp data dir, etcd's bootstrap flags
// (--initial-cluster, --initial-cluster-state new), the same for both. Ready when every member serves
// a linearizable range. The leader is found as `etcdctl endpoint status` finds it (Maintenance.Status
// on each member); failover() kills it with SIGKILL and times the first acknowledged put at the
// survivors. Only the pids spawned here are ever signalled; stop() removes the data dir.
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonCommand, ETCD_BIN, freePort, ready, ROOT, stopChild, type Impl } from './daemons.js';
import { closeConn, connect, encodePut, load, type Conn } from './proto.js';
import { existsSync } from 'node:fs';

const LOG_TAIL_BYTES = 16 * 1024;
const LEADER_TIMEOUT_MS = 30_000; // hang guard: members agreeing on a leader
const STATUS_TIMEOUT_MS = 1000;
// failover: a put to each survivor every ATTEMPT_EVERY_MS, each given ATTEMPT_TIMEOUT_MS (so the
// time to the first acknowledgement is known within ~ATTEMPT_EVERY_MS); give up after FAILOVER_MAX_MS
const ATTEMPT_EVERY_MS = 50;
const ATTEMPT_TIMEOUT_MS = 1000;
const FAILOVER_MAX_MS = 30_000;

export interface Member {
  name: string;
  /** host:port of its client URL. */
  endpoint: string;
  pid: number;
  child: ChildProcess;
  alive(): boolean;
  logs(): string;
}

export interface Failover { seconds: number; killed: string; next?: string }

export interface Cluster {
  impl: Impl;
  members: Member[];
  /** The live member every live member names as leader (waits until they agree). */
  leader(): Promise<Member>;
  /** SIGKILL the leader; seconds until a survivor acknowledges a put (NaN: none within 30 s). */
  failover(): Promise<Failover>;
  /**
   * SIGKILL every live member (the data is thrown away; a graceful stop of all three at once takes
   * 7–10 s of leader transfers), or SIGTERM when ETCD_TS_NODE_FLAGS is set (e.g. --cpu-prof: node
   * writes the profile at a clean exit); wait for the exits, remove the data dir.
   */
  stop(): Promise<void>;
}

function memberArgs(dir: string, name: string, cp: number, pp: number, initialCluster: string): string[] {
  const c = `http://127.0.0.1:${cp}`;
  const p = `http://127.0.0.1:${pp}`;
  return ['--name', name, '--data-dir', join(dir, name), '--listen-client-urls', c, '--advertise-client-urls', c,
    '--listen-peer-urls', p, '--initial-advertise-peer-urls', p, '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new', '--initial-cluster-token', 'bench-cluster'];
}

function spawnMember(impl: Impl, name: string, endpoint: string, args: string[]): Member {
  const [cmd, pre] = daemonCommand(impl);
  const child = spawn(cmd, [...pre, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (d: Buffer): void => {
    out = (out + d.toString()).slice(-LOG_TAIL_BYTES);
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  return { name, endpoint, pid: child.pid!, child, alive: () => child.exitCode === null && child.signalCode === null, logs: () => out };
}

/** A new cluster of `size` members of `impl`, every member ready to serve. */
export async function startCluster(impl: Impl, size = 3): Promise<Cluster> {
  if (impl === 'etcd' && !existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} is not installed (apt-get install -y etcd-server)`);
  const dir = await mkdtemp(join(tmpdir(), `bench-cluster-${impl}-`));
  const ports = new Set<number>();
  while (ports.size < 2 * size) ports.add(await freePort());
  const p = [...ports];
  const names = Array.from({ length: size }, (_, i) => `m${i}`);
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${p[2 * i + 1]}`).join(',');
  const members = names.map((n, i) => spawnMember(impl, n, `127.0.0.1:${p[2 * i]}`, memberArgs(dir, n, p[2 * i]!, p[2 * i + 1]!, initialCluster)));
  const c: Cluster = {
    impl, members,
    leader: () => findLeader(members),
    failover: () => failover(members),
    stop: async () => {
      const signal = process.env.ETCD_TS_NODE_FLAGS ? 'SIGTERM' : 'SIGKILL';
      await Promise.all(members.map((m) => stopChild(m.child, signal)));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((m) => ready(m.endpoint, m.child)));
  } catch (e) {
    const logs = members.map((m) => `--- ${impl} ${m.name}:\n${m.logs().slice(-3000)}`).join('\n');
    await c.stop();
    throw new Error(`${impl} cluster did not start: ${(e as Error).message}\n${logs}`);
  }
  return c;
}

interface Status { memberId: string; leader: string }

/** Maintenance.Status of one member: its own id and the leader it knows ('0': none). */
function status(endpoint: string): Promise<Status> {
  const m = new (load().Maintenance)(endpoint, grpc.credentials.createInsecure());
  return new Promise<Status>((resolve, reject) => {
    m.Status({}, { deadline: Date.now() + STATUS_TIMEOUT_MS }, (err: Error | null, r: any) =>
      err ? reject(err) : resolve({ memberId: String(r.header?.member_id ?? '0'), leader: String(r.leader ?? '0') }));
  }).finally(() => m.close());
}

async function findLeader(members: Member[]): Promise<Member> {
  const deadline = Date.now() + LEADER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const live = members.filter((m) => m.alive());
    const st = await Promise.all(live.map((m) => status(m.endpoint).catch(() => undefined)));
    const leaders = new Set(st.map((s) => s?.leader));
    const id = [...leaders][0];
    const i = st.findIndex((s) => s?.memberId === id);
    if (leaders.size === 1 && id !== '0' && i >= 0) return live[i]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no agreed leader within ${LEADER_TIMEOUT_MS} ms`);
}

/** One put with a deadline; resolves when acknowledged. */
function putOnce(conn: Conn, timeoutMs: number): Promise<void> {
  const req = encodePut(Buffer.from('bench-failover'), Buffer.from(String(Date.now())));
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve, reject) =>
    conn.kv.makeUnaryRequest('/etcdserverpb.KV/Put', id, id, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs },
      (err) => (err ? reject(err) : resolve())));
}

/** Seconds from t0 to the first put acknowledged by any of `conns` (NaN after FAILOVER_MAX_MS). */
function firstAck(conns: Conn[], t0: number): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (s: number): void => {
      if (done) return;
      done = true;
      clearInterval(every);
      clearTimeout(giveUp);
      resolve(s);
    };
    const attempt = (): void => {
      for (const c of conns) putOnce(c, ATTEMPT_TIMEOUT_MS).then(() => finish((performance.now() - t0) / 1000), () => {});
    };
    const every = setInterval(attempt, ATTEMPT_EVERY_MS);
    const giveUp = setTimeout(() => finish(NaN), FAILOVER_MAX_MS);
    attempt();
  });
}

async function failover(members: Member[]): Promise<Failover> {
  const leader = await findLeader(members);
  const rest = members.filter((m) => m !== leader && m.alive());
  const conns = await Promise.all(rest.map((m) => connect(m.endpoint)));
  try {
    // both survivors' channels are up and acknowledge a put before the kill
    await Promise.all(conns.map((c) => putOnce(c, 10_000)));
    const t0 = performance.now();
    leader.child.kill('SIGKILL');
    const seconds = await firstAck(conns, t0);
    const next = Number.isNaN(seconds) ? undefined : (await findLeader(members).catch(() => undefined))?.name;
    return { seconds, killed: leader.name, next };
  } finally {
    conns.forEach(closeConn);
  }
}
