/*
 * The facade the API layers call (src/server/facade.ts), implemented over one EtcdServer.
 * KV and Lease live in v3-kv.ts, watch streams in v3-watch.ts; cluster and maintenance here.
 * Membership changes are membership-changes.ts's; the Auth service and the caller's identity
 * v3-auth.ts's. A call without a token while auth is disabled skips every auth step.
 */
import type { AuthInfo } from '../auth/index.js';
import type { AlarmRequest__Output } from '../pb/etcdserverpb/AlarmRequest.js';
import type { AlarmResponse } from '../pb/etcdserverpb/AlarmResponse.js';
import type { HashKVRequest__Output } from '../pb/etcdserverpb/HashKVRequest.js';
import type { HashKVResponse } from '../pb/etcdserverpb/HashKVResponse.js';
import type { MemberListResponse } from '../pb/etcdserverpb/MemberListResponse.js';
import type { MoveLeaderRequest__Output } from '../pb/etcdserverpb/MoveLeaderRequest.js';
import type { MoveLeaderResponse } from '../pb/etcdserverpb/MoveLeaderResponse.js';
import type { StatusResponse } from '../pb/etcdserverpb/StatusResponse.js';
import type { Member__Output } from '../pb/etcdserverpb/Member.js';
import type { Member } from '../membership/index.js';
import type { AlarmType } from './alarms.js';
import { MembershipChanges } from './membership-changes.js';
import { mvccToEtcdError } from './apply-v3.js';
import { EtcdError, asRecipeCall } from './errors.js';
import { healthRequest } from './internal-request.js';
import type { CallContext, EtcdServerFacade, HeaderInfo, ServingStatus, SnapshotSource, VersionInfo, WatchSink, WatchStream } from './facade.js';
import { SERVER_VERSION, type EtcdServer } from './server.js';
import { big } from './v3-convert.js';
import { V2Api } from './v2-api.js';
import { checkTxnAuth } from './auth-checks.js';
import { NO_USER, V3Auth } from './v3-auth.js';
import { V3Kv, isReadOnlyTxn, isSerializableTxn } from './v3-kv.js';
import { openWatchStream } from './v3-watch.js';
import { campaign, leader, observe, proclaim, resign } from './v3-election.js';
import { lock, unlock } from './v3-lock.js';
import { etcdDbImage, etcdDbStreamLive } from './etcd-db.js';

const toPbMember = (m: Member): Member__Output => ({
  ID: m.id.toString(), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner,
});

/** A watch refused at creation: etcd's cancel_reason is the gRPC error's text. */
const WATCH_REFUSALS: Partial<Record<string, string>> = {
  InvalidAuthToken: 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token',
  AuthOldRevision: 'rpc error: code = InvalidArgument desc = etcdserver: revision of auth store is old',
  UserEmpty: 'rpc error: code = InvalidArgument desc = etcdserver: user name is empty',
};
const WATCH_DENIED = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';

export class ServerFacade implements EtcdServerFacade {
  private readonly v3: V3Kv;
  private readonly v2: V2Api;
  private readonly changes: MembershipChanges;
  private readonly auth: V3Auth;

  constructor(private readonly s: EtcdServer) {
    this.v3 = new V3Kv(s);
    this.v2 = new V2Api(s);
    this.changes = new MembershipChanges(s);
    this.auth = new V3Auth(s, () => this.v3.header());
    Object.assign(this, this.auth.handlers());
  }

  // ---- KV, watch, lease ----
  // A read with auth waits for ReadIndex before the permission check and the read (etcd's Range and
  // Txn, then doSerialize): a permission changed before the request is seen by its check, where
  // checking first answered "revision of auth store is old" (or refused a permission just granted).
  range: EtcdServerFacade['range'] = async (req, ctx) => {
    if (this.auth.bypass(ctx)) return this.v3.range(req);
    const end = req.range_end.length === 0 ? undefined : req.range_end;
    if (!req.serializable) await this.s.readIndexer.waitLinearizable();
    return this.auth.serialized(ctx, (ai) => this.s.auth.isRangePermitted(ai, req.key, end), () => this.v3.rangeNow(req));
  };
  put: EtcdServerFacade['put'] = (req, ctx) => (this.auth.bypass(ctx) ? this.v3.put(req) : this.auth.authInfo(ctx).then((ai) => this.v3.put(req, ai)));
  deleteRange: EtcdServerFacade['deleteRange'] = (req, ctx) =>
    this.auth.bypass(ctx) ? this.v3.deleteRange(req) : this.auth.authInfo(ctx).then((ai) => this.v3.deleteRange(req, ai));
  txn: EtcdServerFacade['txn'] = async (req, ctx) => {
    if (this.auth.bypass(ctx)) return this.v3.txn(req);
    if (isReadOnlyTxn(req)) {
      if (!isSerializableTxn(req)) await this.s.readIndexer.waitLinearizable();
      return this.auth.serialized(ctx, (ai) => checkTxnAuth(this.s.auth, ai, req), () => this.v3.readTxnNow(req));
    }
    return this.auth.authInfo(ctx).then((ai) => this.v3.txn(req, ai));
  };
  compact: EtcdServerFacade['compact'] = (req, ctx) =>
    this.auth.bypass(ctx) ? this.v3.compact(req) : this.auth.authInfo(ctx).then((ai) => this.v3.compact(req, ai));
  openWatchStream(sink: WatchSink, ctx?: CallContext): WatchStream {
    if (this.s.stopped) throw new EtcdError('Stopped');
    const ws = openWatchStream(this.s, sink);
    const stream: WatchStream = {
      watch: (spec) => ws.watch(spec),
      cancel: (id) => ws.cancel(id),
      requestProgress: () => ws.requestProgress!(),
      revision: () => ws.revision(),
      close: () => ws.close(),
    };
    if (ctx === undefined) {
      // no token, no certificate name: auth may still be enabled when a watch is created
      stream.watch = (spec) => {
        if (this.s.auth.enabled) this.watchPermitted(spec.key, spec.rangeEnd, () => NO_USER);
        return ws.watch(spec);
      };
      return stream;
    }
    const who = this.auth.watchIdentity(ctx);
    stream.watch = (spec) => {
      if (!this.auth.bypass(ctx)) this.watchPermitted(spec.key, spec.rangeEnd, () => who.now() ?? NO_USER);
      return ws.watch(spec);
    };
    return who.ready === undefined ? stream : { ...stream, ready: who.ready };
  }
  /** etcd's isWatchPermitted, on the key and range end as its watch server rewrites them ("\0" → a point). */
  private watchPermitted(key: Buffer, rangeEnd: Buffer, who: () => AuthInfo): void {
    try {
      const ai = who();
      const end = rangeEnd.length === 0 || (rangeEnd.length === 1 && rangeEnd[0] === 0) ? undefined : rangeEnd;
      this.s.auth.isRangePermitted(ai, key, end);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      throw new Error(WATCH_REFUSALS[code] ?? WATCH_DENIED);
    }
  }
  leaseGrant: EtcdServerFacade['leaseGrant'] = (req, ctx) =>
    this.auth.bypass(ctx) ? this.v3.leaseGrant(req) : this.auth.authInfo(ctx).then((ai) => this.v3.leaseGrant(req, ai));
  leaseRevoke: EtcdServerFacade['leaseRevoke'] = (req, ctx) =>
    this.auth.bypass(ctx) ? this.v3.leaseRevoke(req) : this.auth.authInfo(ctx).then((ai) => this.v3.leaseRevoke(req, ai));
  leaseKeepAlive: EtcdServerFacade['leaseKeepAlive'] = (req) => this.v3.leaseKeepAlive(req);
  leaseTimeToLive: EtcdServerFacade['leaseTimeToLive'] = (req) => this.v3.leaseTimeToLive(req);
  leaseLeases: EtcdServerFacade['leaseLeases'] = () => this.v3.leaseLeases();

  // ---- cluster ----
  /** The Cluster service's header carries no revision (etcd's ClusterServer.header). */
  private clusterHeader(): ReturnType<V3Kv['header']> {
    return { ...this.v3.header(), revision: undefined };
  }
  async memberList(): Promise<MemberListResponse> {
    return { header: this.clusterHeader(), members: this.s.cluster.members().map(toPbMember) };
  }
  memberAdd: EtcdServerFacade['memberAdd'] = async (req, ctx) => {
    await this.auth.admin(ctx);
    const r = await this.changes.add(req.peerURLs, req.isLearner);
    const { ID, peerURLs, isLearner } = toPbMember(r.member);
    return { header: this.clusterHeader(), member: { ID, peerURLs, isLearner }, members: r.members.map(toPbMember) };
  };
  memberRemove: EtcdServerFacade['memberRemove'] = async (req, ctx) => {
    await this.auth.admin(ctx);
    const members = await this.changes.remove(big(req.ID));
    return { header: this.clusterHeader(), members: members.map(toPbMember) };
  };
  memberUpdate: EtcdServerFacade['memberUpdate'] = async (req, ctx) => {
    await this.auth.admin(ctx);
    const members = await this.changes.update(big(req.ID), req.peerURLs);
    return { header: this.clusterHeader(), members: members.map(toPbMember) };
  };
  isLearner(): boolean {
    return this.s.cluster.member(this.s.memberId)?.isLearner === true;
  }
  memberPromote: EtcdServerFacade['memberPromote'] = async (req, ctx) => {
    await this.auth.admin(ctx);
    const members = await this.changes.promote(big(req.ID), ctx?.signal);
    return { header: this.clusterHeader(), members: members.map(toPbMember) };
  };

  // ---- maintenance ----
  alarm: EtcdServerFacade['alarm'] = (req, ctx) =>
    this.auth.bypass(ctx) ? this.alarmAsEtcd(req) : this.auth.authInfo(ctx).then((ai) => this.alarmAsEtcd(req, ai));

  private async alarmAsEtcd(req: AlarmRequest__Output, ai?: AuthInfo): Promise<AlarmResponse> {
    const toPb = (a: { memberId: bigint; alarm: AlarmType }) => ({ memberID: a.memberId.toString(), alarm: a.alarm });
    // Every Alarm request goes through raft, GET included, and the answer has no response header at
    // all (`etcdctl alarm list -w json` prints {}), as etcd's.
    const r = await this.s.propose({ alarm: req }, ai);
    return { alarms: r.kind === 'alarm' ? r.alarms.map(toPb) : [] };
  }

  async status(): Promise<StatusResponse> {
    const st = this.s.raftStatus;
    return {
      header: this.v3.header(),
      version: SERVER_VERSION,
      dbSize: this.s.backend.size(),
      leader: this.s.lead.toString(),
      raftIndex: st.hardState.commit,
      raftTerm: st.hardState.term,
      raftAppliedIndex: this.s.appliedIndex,
      errors: this.s.alarms.list().map((a) => `memberID:${a.memberId} alarm:${a.alarm} `),
      dbSizeInUse: this.s.backend.sizeInUse(),
      isLearner: this.isLearner(),
    };
  }

  /** Member-local, as etcd's: LevelDB compacts its whole key range (space of deleted data returns). */
  /** etcd's maintenance server answers an empty DefragmentResponse: no header. */
  async defragment(_req?: unknown, ctx?: CallContext): Promise<Record<string, never>> {
    await this.auth.maintenanceAdmin(ctx);
    if (this.s.restoring) await this.s.restoring;
    const inflight = this.s.metrics.byName.get('etcd_disk_defrag_inflight') as { set(v: number): void };
    const started = performance.now();
    inflight.set(1);
    try {
      await this.s.backend.defragment();
    } finally {
      inflight.set(0);
    }
    (this.s.metrics.byName.get('etcd_disk_backend_defrag_duration_seconds') as { observe(v: number): void }).observe((performance.now() - started) / 1000);
    return {};
  }

  async hash(_req?: unknown, ctx?: CallContext): Promise<{ header: ReturnType<V3Kv['header']>; hash: number }> {
    await this.auth.maintenanceAdmin(ctx);
    if (this.s.restoring) await this.s.restoring;
    return { header: this.v3.header(), hash: await this.s.kv.hash() };
  }

  async hashKV(req: HashKVRequest__Output, ctx?: CallContext): Promise<HashKVResponse> {
    await this.auth.maintenanceAdmin(ctx);
    if (this.s.restoring) await this.s.restoring;
    try {
      const r = await this.s.kv.hashKV(Number(req.revision));
      return { header: this.v3.header(r.revision), hash: r.hash, compact_revision: r.compactRevision };
    } catch (e) {
      throw mvccToEtcdError(e);
    }
  }

  async moveLeader(req: MoveLeaderRequest__Output): Promise<MoveLeaderResponse> {
    if (!this.s.isLeader()) throw new EtcdError('NotLeader');
    await this.s.moveLeader(big(req.targetID), this.s.cfg.requestTimeoutMs);
    return { header: this.v3.header() };
  }

  /**
   * The backend as etcd 3.4's bbolt database file (server/etcd-db.ts): a whole number of 4096-byte
   * pages, so etcdctl's check that the stream minus its sha256 trailer is 512-byte aligned holds.
   */
  async snapshot(ctx?: CallContext): Promise<SnapshotSource> {
    await this.auth.maintenanceAdmin(ctx);
    if (this.s.restoring) await this.s.restoring;
    // the key bucket from the key index (its history read from a LevelDB snapshot), streamed as it is
    // laid out; none while a compaction deletes revisions: the save waits for it, a little
    await this.s.kv.compactionSettled();
    const live = this.s.kv.liveRevisions();
    const image = live ? await etcdDbStreamLive(this.s.backend, live) : await etcdDbImage(this.s.backend);
    this.s.logger.info({ bytes: image.size, keyBucket: live ? 'key index' : 'backend' }, 'sending database snapshot to client');
    const chunks = image.chunks;
    return { size: image.size, chunks: (async function* () { yield* chunks; })() };
  }

  // ---- lock and election (etcd's recipes inside the server); auth: a later issue ----
  lock: EtcdServerFacade['lock'] = (req, ctx) => asRecipeCall(lock(this.s, this.kvAs(ctx), req, ctx?.signal));
  unlock: EtcdServerFacade['unlock'] = (req, ctx) => asRecipeCall(unlock(this.kvAs(ctx), req));
  campaign: EtcdServerFacade['campaign'] = (req, ctx) => asRecipeCall(campaign(this.s, this.kvAs(ctx), req, ctx?.signal));
  proclaim: EtcdServerFacade['proclaim'] = (req, ctx) => asRecipeCall(proclaim(this.kvAs(ctx), req));
  leader: EtcdServerFacade['leader'] = (req, ctx) => asRecipeCall(leader(this.kvAs(ctx), req));
  resign: EtcdServerFacade['resign'] = (req, ctx) => asRecipeCall(resign(this.kvAs(ctx), req));
  observe: EtcdServerFacade['observe'] = (req, ctx) => observe(this.s, this.kvAs(ctx), req, ctx?.signal);

  /**
   * The KV the recipes use, as the caller: etcd's lock and election servers run their client calls
   * with the caller's context, so its token (and permissions) apply to every read and write they make.
   */
  private kvAs(ctx: CallContext | undefined): V3Kv {
    if (ctx?.token === undefined && !this.s.auth.enabled) return this.v3;
    const as: Partial<V3Kv> = {
      range: (req) => this.range(req, ctx),
      put: (req) => this.put(req, ctx),
      deleteRange: (req) => this.deleteRange(req, ctx),
      txn: (req) => this.txn(req, ctx),
      leaseGrant: (req) => this.leaseGrant(req, ctx),
      leaseRevoke: (req) => this.leaseRevoke(req, ctx),
    };
    return Object.assign(Object.create(this.v3) as V3Kv, as);
  }
  // ---- auth (the rest of the service is assigned from V3Auth.handlers() in the constructor) ----
  authenticate: EtcdServerFacade['authenticate'] = (req, ctx) => this.auth.authenticate(req, ctx);
  declare authEnable: EtcdServerFacade['authEnable'];
  declare authDisable: EtcdServerFacade['authDisable'];
  declare userAdd: EtcdServerFacade['userAdd'];
  declare userGet: EtcdServerFacade['userGet'];
  declare userList: EtcdServerFacade['userList'];
  declare userDelete: EtcdServerFacade['userDelete'];
  declare userChangePassword: EtcdServerFacade['userChangePassword'];
  declare userGrantRole: EtcdServerFacade['userGrantRole'];
  declare userRevokeRole: EtcdServerFacade['userRevokeRole'];
  declare roleAdd: EtcdServerFacade['roleAdd'];
  declare roleGet: EtcdServerFacade['roleGet'];
  declare roleList: EtcdServerFacade['roleList'];
  declare roleDelete: EtcdServerFacade['roleDelete'];
  declare roleGrantPermission: EtcdServerFacade['roleGrantPermission'];
  declare roleRevokePermission: EtcdServerFacade['roleRevokePermission'];

  // ---- v2 ----
  v2Keys: EtcdServerFacade['v2Keys'] = (req) => this.v2.v2Keys(req);
  v2Watch: EtcdServerFacade['v2Watch'] = (key, opts) => this.v2.v2Watch(key, opts);
  v2Index = (): number => this.v2.v2Index();
  v2AuthProbe = (): boolean => this.v2.v2AuthProbe();
  v2AuthRequest: EtcdServerFacade['v2AuthRequest'] = (req) => this.v2.v2AuthRequest(req);
  v2AuthGet: EtcdServerFacade['v2AuthGet'] = (path) => this.v2.v2AuthGet(path);
  v2StoreStats: EtcdServerFacade['v2StoreStats'] = () => this.v2.v2StoreStats();
  v2Header: EtcdServerFacade['v2Header'] = () => this.v2.v2Header();
  v2Members: EtcdServerFacade['v2Members'] = () => this.v2.v2Members();
  v2SelfStats: EtcdServerFacade['v2SelfStats'] = () => this.v2.v2SelfStats();
  v2LeaderStats: EtcdServerFacade['v2LeaderStats'] = () => this.v2.v2LeaderStats();

  // ---- health ----
  healthState(): { alarms: number; hasLeader: boolean } {
    return { alarms: this.s.alarms.list().length, hasLeader: this.s.lead !== 0n };
  }
  async healthRead(): Promise<void> {
    await this.s.proposeV2(healthRequest());
  }

  // ---- synchronous state ----
  header(): HeaderInfo {
    return { clusterId: this.s.clusterId, memberId: this.s.memberId, raftTerm: this.s.term, revision: this.s.kv.rev() };
  }
  servingStatus(): ServingStatus {
    return this.s.stopped ? 'NOT_SERVING' : 'SERVING';
  }
  version(): VersionInfo {
    return { etcdserver: SERVER_VERSION, etcdcluster: this.s.clusterVersion || 'not_decided' };
  }
}
