/*
 * EtcdServer: the member. Wires raft (RaftNode), the WAL, the backend with MVCC, the lessor, alarms
 * and membership; proposes replicated requests and applies committed entries in log order.
 *
 * Apply rules: an entry at or below the backend's consistent index was applied before a restart and
 * is skipped for the backend-held state (v3 keys, leases, alarms, members); conf changes always reach
 * raft (its configuration is rebuilt from the log). A waiter (the proposing client) is triggered
 * with the applied result: a V3Result or an EtcdError.
 */
import type { AuthInfo, AuthStore, TokenProvider } from '../auth/index.js';
import type { Histogram } from '../pkg/prom.js';
import type { Backend } from '../backend/index.js';
import type { Lessor } from '../lease/index.js';
import { RaftCluster, idToHex } from '../membership/index.js';
import type { KvStore } from '../mvcc/index.js';
import { IdGenerator } from '../pkg/idgen.js';
import type { Logger } from '../pkg/logger.js';
import { createMetrics, type EtcdMetrics } from '../pkg/metrics.js';
import { StateType, type RawNode, type ReadState, type SoftState } from '../raft/index.js';
import { EntryType, None, type ConfChange, type Entry, type Message, type Snapshot } from '../raft/types.js';
import type { SnapshotToSend } from '../transport/index.js';
import { V2Store } from '../v2store/index.js';
import type { AlarmStore } from './alarms.js';
import { EntryApplier, type ApplyOutcome } from './apply.js';
import { AuthApplier } from './apply-auth.js';
import { V3Applier } from './apply-v3.js';
import { AppliedWait } from './applied-wait.js';
import { bootstrapRaft, type RaftBootstrap } from './bootstrap.js';
import { DEFAULT_QUOTA_BYTES, type ServerConfig } from './config.js';
import { EtcdError, MemberRemovedError } from './errors.js';
import { Compactor } from './compactor.js';
import type { InternalRaftRequest, V2Request } from './internal-request.js';
import { LeaseForwarder } from './lease-forward.js';
import { HeartbeatWatch } from './heartbeat-watch.js';
import { ioOf, type MemberIo } from './io.js';
import { Housekeeping } from './housekeeping.js';
import * as leadership from './leadership.js';
import { wireMetrics, type ServerCounts } from './metrics-wiring.js';
import { Peers, peerMetrics } from './peers.js';
import { Proposals } from './proposals.js';
import { Proposer } from './proposer.js';
import { Publication } from './publication.js';
import { RaftNode } from './raft-node.js';
import { heartbeatWatched, newRawNode, observeRaftStorage } from './raft-start.js';
import { ReadIndexer } from './read-index.js';
import { mergedSnapshot, saveSnapshotDb } from './snapshot-db.js';
import { installSnapshot } from './snapshot-install.js';
import { Snapshots } from './snapshots.js';
import { backendMembershipStore, keyIndexImagePathOf, loadMembership, openStores, saveKvImage, type BackendLeaseStore, type Stores } from './stores.js';
import { mark, Stage, TRACE_PUT } from '../pkg/put-trace.js';

export { CLUSTER_VERSION } from './publication.js';
export const SERVER_VERSION = '3.4.23';
export { HOUSEKEEPING_MS } from './housekeeping.js';

/** Unflushed backend operations at which the apply loop waits for a batch write (memory bound). */
export const BACKEND_PENDING_OPS_MAX = 100_000;
/** etcd's threshold for its "apply request took too long" warning. */
const SLOW_APPLY_MS = 100;

export type { ApplyOutcome } from './apply.js';

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly cluster: RaftCluster;
  readonly readIndexer: ReadIndexer;
  /** The v2 key tree: in memory, rebuilt from the raft snapshot and the WAL after it. */
  readonly v2: V2Store;
  readonly startTimeMs: number;
  leaderSinceMs = 0;
  lead: bigint = None;
  term = 0;
  readonly backend: Backend;
  readonly kv: KvStore;
  readonly lessor: Lessor;
  readonly alarms: AlarmStore;
  readonly auth: AuthStore;
  /** Simple tokens: assigned when Authenticate applies, looked up for each request carrying one. */
  readonly tokens: TokenProvider;
  private readonly appliedWait: AppliedWait;
  /** The disk, store, transport, clock and randomness this member was given (io.ts). */
  readonly io: MemberIo;
  /** Set while a snapshot from the leader replaces the state: local reads wait for it. */
  restoring: Promise<void> | undefined;
  private readonly leaseStore: BackendLeaseStore;
  private raftNode!: RaftNode;
  /** The peer transport and the receiving side of raft messages. */
  peers!: Peers;
  /** Keep-alives and time-to-live questions a follower sends on to the leader. */
  readonly leaseForwarder: LeaseForwarder;
  private readonly proposals: Proposals<ApplyOutcome>;
  private readonly idGen: IdGenerator;
  private readonly applier: V3Applier;
  private readonly snapshots: Snapshots;
  private readonly entries: EntryApplier;
  private readonly proposer: Proposer;
  private readonly leadership: leadership.LeadershipDeps;
  private housekeeping: Housekeeping | undefined;
  private compactor: Compactor | undefined;
  private readonly publication: Publication;
  private soleVoterCampaign = false;
  private stopping = false;
  private removedNoticed = false;
  private fatal: ((err: unknown) => void) | undefined;
  private readonly counts: ServerCounts;
  private readonly heartbeats: HeartbeatWatch;

  private constructor(
    readonly cfg: ServerConfig,
    readonly logger: Logger,
    readonly metrics: EtcdMetrics,
    boot: RaftBootstrap,
    stores: Stores,
  ) {
    const { backend, leaseStore, kv, lessor, alarms, auth, tokens } = stores;
    this.io = ioOf(cfg);
    const clock = this.io.clock;
    this.appliedWait = new AppliedWait(clock);
    this.auth = auth;
    this.tokens = tokens;
    this.backend = backend;
    this.leaseStore = leaseStore;
    this.kv = kv;
    kv.onFatal = (err) => queueMicrotask(() => this.die(err));
    this.lessor = lessor;
    this.alarms = alarms;
    this.memberId = boot.memberId;
    this.clusterId = boot.clusterId;
    this.cluster = new RaftCluster(boot.clusterId, boot.memberId, backendMembershipStore(backend));
    this.proposals = new Proposals(cfg.requestTimeoutMs);
    this.idGen = new IdGenerator(boot.memberId, this.now());
    const quotaBytes = cfg.quotaBackendBytes > 0 ? cfg.quotaBackendBytes : DEFAULT_QUOTA_BYTES;
    this.applier = new V3Applier({ kv, lessor, backend, alarms, quotaBytes, now: () => this.now(), logger });
    const authApplier = new AuthApplier({ inner: this.applier, auth, tokens, lessor, backend, now: () => this.now() });
    this.readIndexer = new ReadIndexer({
      requestReadIndex: (ctx) => {
        this.raftNode.node.readIndex(ctx);
        this.raftNode.kick();
      },
      appliedIndex: () => this.appliedIndex,
      nextContext: () => this.idGen.next(),
      timeoutMs: cfg.requestTimeoutMs, // etcd's ReqTimeout: 5 s and two election timeouts
      timeoutError: () => new EtcdError('Timeout'),
      clock,
    });
    this.v2 = boot.snapshot && boot.snapshot.data.length > 0 ? V2Store.recover(boot.snapshot.data) : new V2Store();
    // (a fresh etcd's getsFail 1 is the validation of its bootstrap conf change: conf-change-check.ts)
    const emptyConf = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    this.entries = new EntryApplier(
      {
        node: () => this.raftNode.node,
        backend,
        cluster: this.cluster,
        v2: this.v2,
        v3: authApplier,
        lessor,
        waits: this.proposals.waits,
        leadsInTerm: (term) => this.isLeader() && term === this.term,
        now: () => this.now(),
        electionTimeoutMs: cfg.electionTimeoutMs,
        onRemovedSelf: () => this.stopRemoved(),
      },
      boot.snapshot?.metadata.index ?? 0,
      boot.snapshot?.metadata.confState ?? emptyConf,
    );
    this.leaseForwarder = new LeaseForwarder({
      peers: () => this.peers,
      leader: () => this.lead,
      memberId: this.memberId,
      requestTimeoutMs: cfg.requestTimeoutMs,
      waitLeader: (deadlineMs) => this.waitLeader(deadlineMs),
      clock,
    });
    this.startTimeMs = this.now();
    this.snapshots = new Snapshots(boot, backend, cfg, logger, this.appliedIndex, () => this.v2.save());
    this.heartbeats = new HeartbeatWatch(cfg.heartbeatIntervalMs, logger, () => clock.now());
    this.counts = wireMetrics(metrics, {
      memberId: this.memberId, quotaBytes, kv, lessor, v2: this.v2, backend, cluster: this.cluster,
      readIndexer: this.readIndexer, clusterVersion: () => this.clusterVersion, authRevision: () => this.auth.revision,
    });
    this.proposer = new Proposer({
      idGen: this.idGen,
      proposals: this.proposals,
      maxRequestBytes: cfg.maxRequestBytes,
      requestTimeoutMs: cfg.requestTimeoutMs,
      now: () => this.now(),
      clockNow: () => clock.now(),
      hasLeader: () => this.lead !== None,
      stopping: () => this.stopping,
      waitLeader: (deadlineMs) => this.waitLeader(deadlineMs),
      proposeBatch: (datas) => this.raftNode.proposeBatch(datas),
      proposeConfChange: (cc) => this.raftNode.node.proposeConfChange(cc),
      kick: () => this.raftNode.kick(),
    });
    this.publication = new Publication({
      memberId: this.memberId, name: cfg.name, clientUrls: cfg.advertiseClientUrls, logger,
      isLeader: () => this.isLeader(),
      clusterVersion: () => this.clusterVersion,
      proposeV2: (req) => this.proposeV2(req),
    });
    this.leadership = {
      memberId: this.memberId,
      cluster: this.cluster,
      logger,
      heartbeatIntervalMs: cfg.heartbeatIntervalMs,
      clock,
      lead: () => this.lead,
      term: () => this.term,
      stopping: () => this.stopping,
      transferLeader: (transferee) => {
        this.raftNode.node.transferLeader(transferee);
        this.raftNode.kick();
      },
      activeSince: (id) => this.peers.transport.activeSince(id),
    };
  }

  static async start(cfg: ServerConfig): Promise<EtcdServer> {
    const logger = cfg.logger.child({ room: 'server' });
    const metrics = createMetrics({ serverVersion: SERVER_VERSION });
    const boot = await bootstrapRaft(cfg, cfg.logger);
    cfg.steps?.mark('read WAL', { entries: boot.storage.lastIndex() - boot.storage.firstIndex() + 1 });
    const stores = await openStores(cfg, boot.snapshot, metrics, boot.spareMemory);
    boot.spareMemory = undefined; // what the key index did not take is let go
    const server = new EtcdServer(cfg, logger, metrics, boot, stores);
    const membership = await loadMembership(stores.backend);
    server.cluster.recover(membership.members, membership.removed);
    server.entries.clusterVersion = membership.clusterVersion;
    server.startRaft(boot);
    cfg.steps?.mark('raft started');
    return server;
  }

  /** Resolves once this member has published its attributes through raft (etcd's ReadyNotify). */
  ready(): Promise<void> {
    return this.publication.published;
  }

  now(): number {
    return this.cfg.now ? this.cfg.now() : this.io.clock.now();
  }

  /** Called with the error that stopped the member (fsync failure, backend failure). */
  onFatal(handler: (err: unknown) => void): void {
    this.fatal = handler;
  }

  nextRequestId(): bigint {
    return this.idGen.next();
  }

  /** True when a write of this many bytes would pass the backend quota. */
  overQuota(cost: number): boolean {
    return this.applier.overQuota(cost);
  }

  isLeader(): boolean {
    return this.lead === this.memberId;
  }

  /** A keep-alive forwarded to us by a follower (we answer only as the primary lessor). */
  async leaseRenewAtLeader(id: bigint): Promise<{ ttl: number } | 'notFound' | 'notPrimary'> {
    return leadership.leaseRenewAtLeader(this.lessor, id, this.now());
  }

  /** A time-to-live question forwarded to us by a follower. */
  async leaseTimeToLiveAtLeader(id: bigint, keys: boolean): Promise<{ id: bigint; ttl: number; grantedTTL: number; keys: Uint8Array[] } | 'notFound'> {
    return leadership.leaseTimeToLiveAtLeader(this.lessor, id, keys, this.now());
  }

  /**
   * Hands leadership to a voter and waits until it leads (etcd's MoveLeader): BadLeaderTransferee for
   * a stranger or a learner, TimeoutLeaderTransfer when it has not happened in time.
   */
  moveLeader(transferee: bigint, timeoutMs: number): Promise<void> {
    return leadership.moveLeader(this.leadership, transferee, timeoutMs);
  }

  /** The leader once one is known; rejects with etcd's request timeout after the deadline (ms). */
  waitLeader(deadlineMs: number): Promise<bigint> {
    return leadership.waitLeader(this.leadership, deadlineMs);
  }

  // ---- proposing ----

  /**
   * Proposes a v3 request and resolves with its applied result (EtcdError rejects); refused when its
   * bytes exceed --max-request-bytes (proposer.ts).
   */
  propose(req: Omit<InternalRaftRequest, 'header'>, ai?: AuthInfo): Promise<ApplyOutcome> {
    return this.proposer.propose(req, ai);
  }

  /** Proposes a bare v2 Request (its ID the request id), as etcd does for /v2/keys writes and the rest. */
  proposeV2(req: V2Request): Promise<ApplyOutcome> {
    return this.proposer.proposeV2(req);
  }

  /** Proposes a conf change under a fresh proposal id; resolves once applied (an EtcdError: refused). */
  proposeConfChange(cc: ConfChange): Promise<void> {
    return this.proposer.proposeConfChange(cc);
  }

  // ---- raft wiring ----

  private startRaft(boot: RaftBootstrap): void {
    const node = newRawNode(this.cfg, boot, this.appliedIndex, this.now());
    observeRaftStorage(boot, this.metrics, this.logger);
    this.peers = new Peers({
      localId: this.memberId,
      clusterId: this.clusterId,
      peerUrls: this.cfg.initialAdvertisePeerUrls,
      cluster: this.cluster,
      logger: this.cfg.logger,
      tls: this.cfg.peerClientTls,
      node: () => this.raftNode.node,
      kick: () => this.raftNode.kick(),
      step: (m) => this.raftNode.step(m),
      receiveSnapshot: (m, db) => {
        const started = this.io.clock.monoMs();
        return saveSnapshotDb(this.cfg, m.snapshot?.metadata.index ?? 0, db, this.logger).then(() => {
          (this.metrics.byName.get('etcd_snap_db_save_total_duration_seconds') as Histogram).observe((this.io.clock.monoMs() - started) / 1000);
        });
      },
      snapshotDb: (m) => this.mergedSnapshot(m),
      onRemoved: () => this.stopRemoved(0),
      observe: peerMetrics(this.metrics, this.memberId),
      newTransport: (opts) => this.io.newTransport(opts),
    });
    this.peers.addRemotes(boot.remotes ?? []);
    const watched = heartbeatWatched(this.peers.transport, this.heartbeats, this.metrics);
    this.raftNode = new RaftNode(node, boot.storage, boot.wal, boot.snapshotter, watched, {
      applyEntries: (entries) => this.applyEntries(entries),
      applySnapshot: (snap) => this.applySnapshot(snap),
      onSoftState: (soft) => this.onSoftState(soft),
      onReadStates: (states) => this.onReadStates(states),
      afterApply: () => this.afterApply(),
      onFatal: (err) => this.die(err),
    }, {
      tickMs: this.cfg.heartbeatIntervalMs,
      logger: this.logger,
      clock: this.io.clock,
      idleMs: this.io.idleMs ?? null,
      alone: () => this.proposals.waits.size <= 1 && this.cluster.size === 1,
    });
    this.raftNode.start();
    this.campaignIfSoleVoter();
    this.compactor = new Compactor({
      mode: this.cfg.autoCompactionMode,
      retention: this.cfg.autoCompactionRetention,
      isLeader: () => this.isLeader(),
      rev: () => this.kv.rev(),
      compactRevision: () => this.kv.compactRevision(),
      compact: async (rev) => void (await this.propose({ compaction: { revision: String(rev), physical: false } })),
      logger: this.logger,
      clock: this.io.clock,
    });
    this.compactor.start();
    this.housekeeping = new Housekeeping({
      metrics: this.metrics, proposals: this.proposals, tokens: this.tokens, backend: this.backend, v2: this.v2,
      lessor: this.lessor, counts: this.counts, clock: this.io.clock,
      now: () => this.now(),
      hasLeader: () => this.lead !== None,
      isLeader: () => this.isLeader(),
      stopping: () => this.stopping,
      publishOnce: () => this.publication.publishOnce(),
      propose: (req) => this.propose(req),
      proposeV2: (req) => this.proposeV2(req),
    });
    this.housekeeping.start();
  }

  /**
   * A restarted member that is the only voter has no one to wait for: it campaigns at once instead of
   * after the rest of its randomized election timeout (0.1-1 s, most of an empty member's restart).
   * raft ignores the call until it knows its configuration (the conf-change entries are applied by
   * the first Ready when there is no snapshot), so it is retried after each apply until there is a
   * leader; the election timer stays the fallback.
   */
  private campaignIfSoleVoter(): void {
    const ms = this.cluster.members();
    const sole = ms.length === 1 && ms[0]!.id === this.memberId && !ms[0]!.isLearner;
    this.soleVoterCampaign = sole && this.lead === None && !this.stopping;
    if (!this.soleVoterCampaign) return;
    this.raftNode.node.campaign();
    this.raftNode.kick();
  }

  /** Snapshot when due; and when applies outrun the backend's writes, let the pending batch drain. */
  private async afterApply(): Promise<void> {
    if (this.soleVoterCampaign) this.campaignIfSoleVoter();
    if (this.backend.pendingOps() >= BACKEND_PENDING_OPS_MAX) await this.backend.commit({ sync: false });
    await this.snapshots.maybeSnapshot(this.appliedIndex, this.entries.confState, this.raftNode.storage);
  }

  /** etcd's merged snapshot of the state applied now, for a MsgSnap of ours (snapshot-db.ts). */
  private mergedSnapshot(m: Message): SnapshotToSend {
    const { appliedIndex, confState } = this.entries;
    return mergedSnapshot(m, {
      appliedIndex, confState, term: (i) => this.raftNode.storage.term(i), v2Data: () => this.v2.save(), backend: this.backend, live: this.kv.liveRevisions(),
    });
  }

  /** A snapshot from the leader, persisted by raft: the state becomes it (snapshot-install.ts). */
  private async applySnapshot(snap: Snapshot): Promise<void> {
    const { cfg, logger, backend, leaseStore, lessor, kv, alarms, auth, cluster, v2, entries, snapshots } = this;
    const holdReads = (until: Promise<void> | undefined): void => void (this.restoring = until);
    this.counts.snapshotApplying = 1;
    try {
      await installSnapshot({ cfg, logger, backend, leaseStore, lessor, kv, alarms, auth, cluster, v2, entries, snapshots, holdReads }, snap);
    } finally {
      this.counts.snapshotApplying = 0;
    }
    this.appliedWait.onApplied(this.appliedIndex);
    this.peers.sync();
    this.metrics.proposalsApplied.set(this.appliedIndex);
    this.readIndexer.onApplied(this.appliedIndex);
  }

  private onSoftState(soft: SoftState): void {
    const wasLeader = this.isLeader();
    if (soft.lead !== this.lead) {
      if (soft.lead !== None) this.metrics.leaderChangesSeen.inc();
      const term = this.raftNode.node.status().hardState.term;
      if (soft.lead === None) this.logger.warn({ lostLeader: idToHex(this.lead), term }, 'lost leader');
      else if (soft.lead === this.memberId) this.logger.info({ term }, 'became leader');
      else this.logger.info({ leader: idToHex(soft.lead), term, state: StateType[soft.raftState] }, 'elected leader');
    }
    if (soft.lead !== this.lead) this.leaderSinceMs = this.now();
    this.lead = soft.lead;
    this.term = this.raftNode.node.status().hardState.term;
    this.metrics.hasLeader.set(this.lead === None ? 0 : 1);
    this.metrics.isLeader.set(this.isLeader() ? 1 : 0);
    if (wasLeader && !this.isLeader()) this.lessor.demote();
    if (!wasLeader && this.isLeader()) this.heartbeats.reset();
    if (this.lead !== None) {
      this.proposer.releaseHeld();
      this.readIndexer.retry();
      this.publication.publishOnce();
    }
  }

  private onReadStates(states: ReadState[]): void {
    for (const rs of states) this.readIndexer.onReadState(rs.requestCtx, rs.index);
  }

  /** This member was removed: as etcd, it stops (a second after applying it: the answer gets out). */
  private stopRemoved(delayMs = 1000): void {
    // once: every refused stream and post reports it, and the removal may also be applied meanwhile
    if (this.stopping || this.removedNoticed) return;
    this.removedNoticed = true;
    this.io.clock.setTimeout(() => {
      // etcd logs these two (an error, then a notice) and exits 0: not a fatal error
      this.logger.error('the member has been permanently removed from the cluster');
      this.logger.info('the data-dir used by this member must be removed');
      this.die(new MemberRemovedError());
    }, delayMs, true);
  }

  private die(err: unknown): void {
    if (!(err instanceof MemberRemovedError)) {
      this.logger.fatal({ err: String(err), stack: (err as Error | undefined)?.stack }, 'member stopped by a fatal error');
    }
    this.stopping = true;
    this.proposals.failAll(new EtcdError('Stopped'));
    this.fatal?.(err);
  }

  private applyEntries(entries: Entry[]): void {
    const t0 = this.io.clock.monoMs();
    if (TRACE_PUT) mark(Stage.apply);
    this.entries.applyEntries(entries);
    if (TRACE_PUT) mark(Stage.applied);
    const took = this.io.clock.monoMs() - t0;
    if (took > SLOW_APPLY_MS) this.counts.slowApplies++;
    if (took > SLOW_APPLY_MS) this.logger.warn({ tookMs: Math.round(took), expectedDuration: '100ms', entries: entries.length }, 'apply request took too long');
    if (entries.some((e) => e.type === EntryType.EntryConfChange)) this.peers.sync();
    this.metrics.proposalsApplied.set(this.appliedIndex);
    this.metrics.proposalsCommitted.set(this.appliedIndex);
    this.readIndexer.onApplied(this.appliedIndex);
    this.appliedWait.onApplied(this.appliedIndex);
  }

  /** Resolves once this member has applied `index` (etcd's applyWait), or rejects at the deadline. */
  waitApplied(index: number, timeoutMs = this.cfg.requestTimeoutMs): Promise<void> {
    if (index <= this.appliedIndex) return Promise.resolve();
    return this.appliedWait.wait(index, timeoutMs, () => new EtcdError('Timeout'));
  }

  // ---- stopping ----

  /** Stops raft, flushes the backend and the WAL. Requests in flight fail with 'Stopped'. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    await leadership.transferLeadershipOnStop(this.leadership, this.cfg.requestTimeoutMs + 2 * this.cfg.electionTimeoutMs);
    this.stopping = true;
    this.housekeeping?.stop();
    this.compactor?.stop();
    await this.raftNode.stop();
    await this.peers.close();
    this.proposals.failAll(new EtcdError('Stopped'));
    this.readIndexer.failAll(new EtcdError('Stopped'));
    this.appliedWait.failAll(new EtcdError('Stopped'));
    await this.kv.settle();
    await this.backend.commit({ sync: true });
    // The backend now holds everything the index describes: the next start can load the index from
    // this image instead of scanning the backend (a crash before this leaves no image: it scans).
    await saveKvImage(this.kv, keyIndexImagePathOf(this.cfg), this.logger, this.io.disk, () => this.io.clock.monoMs());
    await this.backend.close();
    await this.snapshots.close();
  }

  get appliedIndex(): number {
    return this.entries.appliedIndex;
  }

  get clusterVersion(): string {
    return this.entries.clusterVersion;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  get raftStatus(): ReturnType<RawNode['status']> {
    return this.raftNode.node.status();
  }
}
