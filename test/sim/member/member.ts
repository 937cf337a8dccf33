// One simulated member: its disk (kept across crashes), its incarnations of the real EtcdServer over
// the simulation's io (disk, store, transport, clock, peer HTTP), the peer API it serves on its peer
// URL (as cli/main.ts's servePeers wires it), and how it crashes and restarts. A member of the first
// cluster starts with --initial-cluster-state new; one added later joins with `existing` and the
// --initial-cluster its operator gave it (`initialCluster`).
import { pino } from 'pino';
import type { EtcdServer } from '../../../src/server/server.js';
import { EtcdServer as Server } from '../../../src/server/server.js';
import type { ServerConfig } from '../../../src/server/config.js';
import { V3Kv } from '../../../src/server/v3-kv.js';
import { peerApi } from '../../../src/api/peer/index.js';
import { peerApiDeps } from '../../../src/server/peer-api-deps.js';
import type { Entry } from '../../../src/raft/types.js';
import { SimDisk } from '../disk.js';
import type { Rng } from '../rng.js';
import type { SimClock } from './clock.js';
import { diskLogEngines } from './engine.js';
import { SimTransport, type SimNet } from './transport.js';

export interface MemberEnv {
  clock: SimClock;
  net: SimNet;
  rng: Rng;
  snapshotCount: number;
  catchUpEntries: number;
  /** Told of every entry a member applies (state-machine safety). */
  onApply(member: string, entries: Entry[]): void;
  /** Told of every lease revocation a member applies: after revision `rev`, taking `keys` keys. */
  onRevoke?(member: string, id: bigint, rev: number, keys: number): void;
  log?(line: string): void;
}

const silent = pino({ level: 'silent' });
let owners = 0;

export class SimMember {
  disk: SimDisk;
  server: EtcdServer | undefined;
  kv: V3Kv | undefined;
  private transport: SimTransport | undefined;
  private owner = 0;
  /** Incremented by every crash or start: answers from an older incarnation are not the client's. */
  incarnation = 0;
  starting = false;
  fatal: unknown;
  /** Its member id, once known (its first start, or the answer to the add that made it). */
  id: bigint | undefined;
  /** Stopped for good: removed from the cluster (or never added); never started again. */
  gone = false;
  /** Started at least once. */
  started = false;

  constructor(
    readonly name: string,
    private readonly env: MemberEnv,
    seed: number,
    readonly url: string,
    /** --initial-cluster (name -> peer URLs), and whether it joins a running cluster. */
    public initialCluster: Map<string, string[]>,
    readonly joins: boolean,
  ) {
    this.disk = new SimDisk({ seed, yields: 2 });
  }

  get up(): boolean {
    return this.server !== undefined && this.fatal === undefined;
  }

  config(): ServerConfig {
    const { env } = this;
    const disk = this.disk;
    const url = this.url;
    this.owner = ++owners;
    return {
      name: this.name,
      dataDir: `/data/${this.name}`,
      walDir: '',
      walSegmentBytes: 16 * 1024,
      snapshotCount: env.snapshotCount,
      snapshotCatchUpEntries: env.catchUpEntries,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      initialCluster: this.initialCluster,
      initialClusterState: this.joins ? 'existing' : 'new',
      strictReconfigCheck: false,
      initialClusterToken: 'sim',
      initialAdvertisePeerUrls: [url],
      advertiseClientUrls: [url.replace('2380', '2379')],
      preVote: true,
      quotaBackendBytes: 0,
      maxTxnOps: 128,
      maxRequestBytes: 1.5 * 1024 * 1024,
      requestTimeoutMs: 3000,
      autoCompactionMode: 'periodic',
      autoCompactionRetention: 0,
      backendBatchIntervalMs: 100,
      backendBatchLimit: 0,
      logger: silent,
      io: {
        disk,
        engines: diskLogEngines(() => disk),
        clock: env.clock.forOwner(this.owner),
        newTransport: (opts) => (this.transport = new SimTransport(env.net, opts)),
        peerGet: (to, path, _tls, timeoutMs) => env.net.http(this.id ?? 0n, to, 'GET', path, new Uint8Array(0), timeoutMs),
        randomInt: (n) => env.rng.int(0, n - 1),
      },
    };
  }

  async start(): Promise<void> {
    this.starting = true;
    this.fatal = undefined;
    const inc = ++this.incarnation;
    try {
      const server = await Server.start(this.config());
      if (inc !== this.incarnation) return; // crashed while starting
      server.onFatal((err) => {
        if (inc === this.incarnation) this.fatal = err;
      });
      const entries = (server as unknown as { entries: { applyEntries(es: Entry[]): void } }).entries;
      const apply = entries.applyEntries.bind(entries);
      entries.applyEntries = (es) => {
        if (inc === this.incarnation) this.env.onApply(this.name, es);
        apply(es);
      };
      const lessor = server.lessor;
      const revoke = lessor.revoke.bind(lessor);
      lessor.revoke = (id) => {
        const rev = server.kv.rev();
        const keys = revoke(id);
        if (inc === this.incarnation && Array.isArray(keys)) this.env.onRevoke?.(this.name, id, rev, keys.length);
        return keys;
      };
      this.server = server;
      this.kv = new V3Kv(server);
      this.id = server.memberId;
      this.started = true;
      this.serve(server);
      const st = server.raftStatus;
      this.env.log?.(`${this.name} started: term ${st.hardState.term} commit ${st.hardState.commit} applied ${server.appliedIndex} last ${(server as unknown as { raftNode: { storage: { lastIndex(): number } } }).raftNode.storage.lastIndex()} ci ${server.backend.consistentIndex()}`);
    } catch (err) {
      if (inc === this.incarnation) this.fatal = err;
    } finally {
      if (inc === this.incarnation) this.starting = false;
    }
  }

  /** The peer API on its peer URL, as cli/main.ts's servePeers wires it. */
  private serve(server: EtcdServer): void {
    const api = peerApi(peerApiDeps(server));
    this.env.net.serve(this.url, server.memberId, api);
  }

  /** Power cut: timers stop, the network forgets it, the disk keeps what its contract promises. */
  crash(): void {
    this.incarnation++;
    if (this.server) this.env.net.unserve(this.url);
    this.env.clock.kill(this.owner);
    this.transport?.kill();
    this.disk.crash();
    this.disk = this.disk.restart({ yields: 2 });
    this.server = undefined;
    this.kv = undefined;
    this.transport = undefined;
    this.starting = false;
    this.fatal = undefined;
  }
}
