// The cluster of a robustness run: members of our binary (the last one real etcd 3.4 with --mixed),
// every peer link through the fault-injecting proxy, a raw grpc-js client per member, and the member
// operations the faults use (kill and restart, replace: remove, wipe, add, start as existing).
import * as grpc from '@grpc/grpc-js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { clusterMember, waitHealthy, type ClusterMember } from '../integration/cluster-harness.js';
import { freePort } from '../integration/harness.js';
import { PeerNetwork } from './proxy.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Any = any;

export const REQUEST_TIMEOUT_MS = 3000;
export const ELECTION_MS = 1000;

export interface Node {
  name: string;
  member: ClusterMember;
  clientPort: number;
  peerPort: number;
  proxyPort: number;
  idHex?: string;
  /** logs of the member's earlier processes */
  pastLogs: string[];
  paused: boolean;
}

/**
 * grpc-js backs off reconnecting up to 120 s: after a member was down for a while, its clients kept
 * failing fast ("No connection established") long after it was back, and the rig lost most of its
 * traffic and watches (seed 91, profile all, after kill-all). Reconnect quickly instead.
 */
export const CHANNEL_OPTS = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.min_reconnect_backoff_ms': 100 };

export interface Client { kv: Any; watch: Any; maint: Any; cluster: Any; lease: Any }

function client(port: number): Client {
  const g = etcdGrpc() as Any;
  const mk = (svc: string) => new g.etcdserverpb[svc](`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTS);
  return { kv: mk('KV'), watch: mk('Watch'), maint: mk('Maintenance'), cluster: mk('Cluster'), lease: mk('Lease') };
}

export function call<T = Any>(svc: Any, method: string, req: object, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    svc[method](req, { deadline: Date.now() + timeoutMs }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ClusterOpts {
  members: number;
  folder: string;
  seed: number;
  rng: () => number;
  args: string[];
  env?: Record<string, string>;
  mixed?: boolean;
}

export class Cluster {
  readonly net: PeerNetwork;
  readonly nodes: Node[] = [];
  readonly clients: Client[] = [];
  private readonly used = new Set<number>();

  constructor(readonly o: ClusterOpts) {
    this.net = new PeerNetwork(o.rng);
  }

  get n(): number {
    return this.nodes.length;
  }

  private async port(): Promise<number> {
    for (;;) {
      const p = await freePort();
      if (!this.used.has(p)) {
        this.used.add(p);
        return p;
      }
    }
  }

  proxyUrl(nd: Pick<Node, 'proxyPort'>): string {
    return `http://127.0.0.1:${nd.proxyPort}`;
  }

  /** The flags of a member; `initial` is its --initial-cluster and --initial-cluster-state. */
  private args(nd: Pick<Node, 'name' | 'clientPort' | 'peerPort' | 'proxyPort'>, initialCluster: string, state: 'new' | 'existing'): string[] {
    const c = `http://127.0.0.1:${nd.clientPort}`;
    return [
      '--name', nd.name, '--data-dir', join(this.o.folder, nd.name), '--listen-client-urls', c, '--advertise-client-urls', c,
      '--listen-peer-urls', `http://127.0.0.1:${nd.peerPort}`, '--initial-advertise-peer-urls', this.proxyUrl(nd),
      '--initial-cluster', initialCluster, '--initial-cluster-state', state, '--initial-cluster-token', `robust-${this.o.seed}`,
      '--heartbeat-interval', '100', '--election-timeout', String(ELECTION_MS),
      // progress_notify watchers hear of progress every second (etcd's default is 10 min)
      '--experimental-watch-progress-notify-interval', '1s', ...this.o.args,
    ];
  }

  private spawn(nd: Pick<Node, 'name' | 'clientPort' | 'peerPort' | 'proxyPort'>, args: string[]): ClusterMember {
    const impl = this.o.mixed && nd.name === `m${this.o.members - 1}` ? 'etcd' : 'ours';
    const c = `http://127.0.0.1:${nd.clientPort}`;
    return clusterMember(impl, { name: nd.name, clientUrl: c, peerUrl: this.proxyUrl(nd), endpoint: `127.0.0.1:${nd.clientPort}`, dataDir: join(this.o.folder, nd.name) }, args, { env: this.o.env });
  }

  async start(): Promise<void> {
    const defs: Array<Pick<Node, 'name' | 'clientPort' | 'peerPort' | 'proxyPort'>> = [];
    for (let i = 0; i < this.o.members; i++) defs.push({ name: `m${i}`, clientPort: await this.port(), peerPort: await this.port(), proxyPort: await this.port() });
    const initialCluster = defs.map((d) => `${d.name}=${this.proxyUrl(d)}`).join(',');
    for (const d of defs) await this.net.listen(d.name, d.proxyPort, d.peerPort, this.proxyUrl(d));
    for (const d of defs) {
      this.nodes.push({ ...d, member: this.spawn(d, this.args(d, initialCluster, 'new')), pastLogs: [], paused: false });
      this.clients.push(client(d.clientPort));
    }
    await waitHealthy(this.nodes.map((nd) => nd.member), undefined, 120_000); // slow on a loaded machine
    const ml: Any = await call(this.clients[0]!.cluster, 'MemberList', {});
    for (const m of ml.members) {
      const nd = this.nodes.find((x) => x.name === m.name);
      if (nd) this.learnId(nd, BigInt(m.ID).toString(16));
    }
  }

  private learnId(nd: Node, idHex: string): void {
    nd.idHex = idHex;
    this.net.nameId(idHex, nd.name);
  }

  up(nd: Node): boolean {
    return nd.member.alive() && !nd.paused;
  }

  /** The leader as the members that answer see it (undefined when none is found in ~9 s). */
  async leader(): Promise<Node | undefined> {
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < this.n; i++) {
        if (!this.up(this.nodes[i]!)) continue;
        try {
          const st: Any = await call(this.clients[i]!.maint, 'Status', {}, 1000);
          const id = BigInt(st.leader).toString(16);
          const l = this.nodes.find((nd) => nd.idHex === id);
          if (l && this.up(l)) return l;
        } catch {
          /* next */
        }
      }
      await sleep(300);
    }
    return undefined;
  }

  async kill(nd: Node): Promise<void> {
    if (nd.member.alive()) nd.pastLogs.push(nd.member.logs());
    await nd.member.kill();
  }

  /** Start the member again (same flags, plus `env`), not waiting for it. */
  async restart(nd: Node, env?: Record<string, string>): Promise<void> {
    if (nd.member.alive()) nd.pastLogs.push(nd.member.logs());
    await nd.member.restart({ wait: false, env });
  }

  /** Healthy within `ms`, or the reason it is not (its exit and log tail). */
  async healthy(nds: Node[], ms: number): Promise<string | undefined> {
    return waitHealthy(nds.map((x) => x.member), undefined, ms).then(() => undefined, (e: Error) => e.message.slice(0, 3000));
  }

  /**
   * etcdctl member remove, wipe, member add, start with --initial-cluster-state existing: the member
   * comes back empty under a new id and is caught up by the leader (entries or a snapshot).
   */
  async replace(nd: Node, log: (s: string) => void): Promise<void> {
    const via = this.nodes.findIndex((x) => x !== nd && this.up(x));
    const cl = this.clients[via]!.cluster;
    const url = this.proxyUrl(nd);
    // a conf change proposed just after a leader change can be lost (the client times out) and yet
    // may have been applied: retry, looking at the member list for what happened
    const members = async (): Promise<Any[] | undefined> => call<Any>(cl, 'MemberList', {}).then((r) => r.members as Any[], () => undefined);
    const hex = (id: unknown) => BigInt(id as string).toString(16);
    for (let attempt = 0; ; attempt++) {
      try {
        await call(cl, 'MemberRemove', { ID: BigInt(`0x${nd.idHex}`).toString() }, 10_000);
        break;
      } catch (e) {
        const ms = await members();
        if (ms && !ms.some((m) => hex(m.ID) === nd.idHex)) break;
        if (attempt >= 3) throw e;
        log(`member remove ${nd.name}: ${(e as Error).message}; retrying`);
        await sleep(1000);
      }
    }
    log(`removed ${nd.name} (${nd.idHex})`);
    await this.kill(nd);
    rmSync(join(this.o.folder, nd.name), { recursive: true, force: true });
    let list: Any[] | undefined;
    let idHex: string | undefined;
    for (let attempt = 0; !idHex; attempt++) {
      try {
        const add: Any = await call(cl, 'MemberAdd', { peerURLs: [url] }, 10_000);
        [idHex, list] = [hex(add.member.ID), add.members];
      } catch (e) {
        const ms = await members();
        const m = ms?.find((x) => (x.peerURLs as string[]).includes(url));
        if (m) [idHex, list] = [hex(m.ID), ms];
        else if (attempt >= 10) throw e;
        else {
          log(`member add ${nd.name}: ${(e as Error).message}; retrying`);
          await sleep(1000);
        }
      }
    }
    const initialCluster = list!.map((m) => `${hex(m.ID) === idHex ? nd.name : (m.name || this.nodes.find((x) => x.idHex === hex(m.ID))?.name)}=${m.peerURLs[0]}`).join(',');
    log(`added ${nd.name} as ${idHex}; --initial-cluster ${initialCluster}`);
    this.learnId(nd, idHex);
    nd.member = this.spawn(nd, this.args(nd, initialCluster, 'existing'));
  }

  async close(): Promise<void> {
    for (const nd of this.nodes) {
      try {
        if (nd.paused && nd.member.alive()) process.kill(nd.member.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    for (const c of this.clients) for (const s of Object.values(c)) (s as grpc.Client).close();
    for (const nd of this.nodes) await nd.member.kill();
    await this.net.close_();
  }
}
