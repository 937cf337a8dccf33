/*
 * The facade the API layers call (src/server/facade.ts), implemented over one EtcdServer.
 * KV and Lease live in v3-kv.ts, watch streams in v3-watch.ts; cluster and maintenance here.
 * Membership changes are membership-changes.ts's. Not yet served (etcd's "not capable" error until
 * their issues land): auth management.
 */
import { snapshotStream } from '../backend/index.js';
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
import { V3Kv } from './v3-kv.js';
import { openWatchStream } from './v3-watch.js';
import { campaign, leader, observe, proclaim, resign } from './v3-election.js';
import { lock, unlock } from './v3-lock.js';

/** etcdctl snapshot save wants (size - 32) % 512 == 0. */
export const SNAPSHOT_ALIGN_BYTES = 512;

const toPbMember = (m: Member): Member__Output => ({
  ID: m.id.toString(), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner,
});

const notCapable = (): Promise<never> => Promise.reject(new EtcdError('NotCapable'));

/**
 * Auth is never enabled here, so no token is valid: etcd then refuses every request that carries one
 * with "invalid auth token" on the paths that read the caller's auth info (KV, lease grant/revoke,
 * alarm: its doSerialize and raft request paths), and serves the others.
 */
function refuseToken(ctx: CallContext | undefined): Promise<never> | undefined {
  return ctx?.token === undefined ? undefined : Promise.reject(new EtcdError('InvalidAuthToken'));
}

export class ServerFacade implements EtcdServerFacade {
  private readonly v3: V3Kv;
  private readonly v2: V2Api;
  private readonly changes: MembershipChanges;

  constructor(private readonly s: EtcdServer) {
    this.v3 = new V3Kv(s);
    this.v2 = new V2Api(s);
    this.changes = new MembershipChanges(s);
  }

  // ---- KV, watch, lease ----
  range: EtcdServerFacade['range'] = (req, ctx) => refuseToken(ctx) ?? this.v3.range(req);
  put: EtcdServerFacade['put'] = (req, ctx) => refuseToken(ctx) ?? this.v3.put(req);
  deleteRange: EtcdServerFacade['deleteRange'] = (req, ctx) => refuseToken(ctx) ?? this.v3.deleteRange(req);
  txn: EtcdServerFacade['txn'] = (req, ctx) => refuseToken(ctx) ?? this.v3.txn(req);
  compact: EtcdServerFacade['compact'] = (req, ctx) => refuseToken(ctx) ?? this.v3.compact(req);
  openWatchStream(sink: WatchSink, ctx?: CallContext): WatchStream {
    if (this.s.stopped) throw new EtcdError('Stopped');
    const ws = openWatchStream(this.s, sink);
    if (ctx?.token === undefined) return ws;
    // with a token (never valid here: auth is off) etcd refuses every create with this cancel_reason
    return {
      watch: () => {
        throw new Error('rpc error: code = Unauthenticated desc = etcdserver: invalid auth token');
      },
      cancel: (id) => ws.cancel(id),
      revision: () => ws.revision(),
      close: () => ws.close(),
    };
  }
  leaseGrant: EtcdServerFacade['leaseGrant'] = (req, ctx) => refuseToken(ctx) ?? this.v3.leaseGrant(req);
  leaseRevoke: EtcdServerFacade['leaseRevoke'] = (req, ctx) => refuseToken(ctx) ?? this.v3.leaseRevoke(req);
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
  memberAdd: EtcdServerFacade['memberAdd'] = async (req) => {
    const r = await this.changes.add(req.peerURLs, req.isLearner);
    const { ID, peerURLs, isLearner } = toPbMember(r.member);
    return { header: this.clusterHeader(), member: { ID, peerURLs, isLearner }, members: r.members.map(toPbMember) };
  };
  memberRemove: EtcdServerFacade['memberRemove'] = async (req) => {
    const members = await this.changes.remove(big(req.ID));
    return { header: this.clusterHeader(), members: members.map(toPbMember) };
  };
  memberUpdate: EtcdServerFacade['memberUpdate'] = async (req) => {
    const members = await this.changes.update(big(req.ID), req.peerURLs);
    return { header: this.clusterHeader(), members: members.map(toPbMember) };
  };
  isLearner(): boolean {
    return this.s.cluster.member(this.s.memberId)?.isLearner === true;
  }
  memberPromote: EtcdServerFacade['memberPromote'] = async (req, ctx) => {
    const members = await this.changes.promote(big(req.ID), ctx?.signal);
    return { header: this.clusterHeader(), members: members.map(toPbMember) };
  };

  // ---- maintenance ----
  alarm: EtcdServerFacade['alarm'] = (req, ctx) => refuseToken(ctx) ?? this.alarmAsEtcd(req);

  private async alarmAsEtcd(req: AlarmRequest__Output): Promise<AlarmResponse> {
    const toPb = (a: { memberId: bigint; alarm: AlarmType }) => ({ memberID: a.memberId.toString(), alarm: a.alarm });
    // Every Alarm request goes through raft, GET included, and the answer has no response header at
    // all (`etcdctl alarm list -w json` prints {}), as etcd's.
    const r = await this.s.propose({ alarm: req });
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
  async defragment(): Promise<Record<string, never>> {
    if (this.s.restoring) await this.s.restoring;
    await this.s.backend.defragment();
    return {};
  }

  async hash(): Promise<{ header: ReturnType<V3Kv['header']>; hash: number }> {
    if (this.s.restoring) await this.s.restoring;
    return { header: this.v3.header(), hash: await this.s.kv.hash() };
  }

  async hashKV(req: HashKVRequest__Output): Promise<HashKVResponse> {
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
   * The backend image, zero-padded to a multiple of 512 bytes: etcdctl checks that the stream minus
   * its sha256 trailer is sector-aligned (as a bbolt file is). Our format ends with its own end mark.
   */
  async snapshot(): Promise<SnapshotSource> {
    if (this.s.restoring) await this.s.restoring;
    const chunks: Buffer[] = [];
    for await (const c of snapshotStream(this.s.backend)) chunks.push(c);
    const unpadded = chunks.reduce((n, c) => n + c.length, 0);
    const pad = (SNAPSHOT_ALIGN_BYTES - (unpadded % SNAPSHOT_ALIGN_BYTES)) % SNAPSHOT_ALIGN_BYTES;
    if (pad > 0) chunks.push(Buffer.alloc(pad));
    const size = unpadded + pad;
    return { size, chunks: (async function* () { yield* chunks; })() };
  }

  // ---- lock and election (etcd's recipes inside the server); auth: a later issue ----
  lock: EtcdServerFacade['lock'] = (req, ctx) => asRecipeCall(lock(this.s, this.v3, req, ctx?.signal));
  unlock: EtcdServerFacade['unlock'] = (req) => asRecipeCall(unlock(this.v3, req));
  campaign: EtcdServerFacade['campaign'] = (req, ctx) => asRecipeCall(campaign(this.s, this.v3, req, ctx?.signal));
  proclaim: EtcdServerFacade['proclaim'] = (req) => asRecipeCall(proclaim(this.v3, req));
  leader: EtcdServerFacade['leader'] = (req) => asRecipeCall(leader(this.v3, req));
  resign: EtcdServerFacade['resign'] = (req) => asRecipeCall(resign(this.v3, req));
  observe: EtcdServerFacade['observe'] = (req, ctx) => observe(this.s, this.v3, req, ctx?.signal);
  authEnable = notCapable;
  authDisable = notCapable;
  authenticate = (): Promise<never> => Promise.reject(new EtcdError('AuthNotEnabled'));
  userAdd = notCapable;
  userGet = notCapable;
  userList = notCapable;
  userDelete = notCapable;
  userChangePassword = notCapable;
  userGrantRole = notCapable;
  userRevokeRole = notCapable;
  roleAdd = notCapable;
  roleGet = notCapable;
  roleList = notCapable;
  roleDelete = notCapable;
  roleGrantPermission = notCapable;
  roleRevokePermission = notCapable;

  // ---- v2 ----
  v2Keys: EtcdServerFacade['v2Keys'] = (req) => this.v2.v2Keys(req);
  v2Watch: EtcdServerFacade['v2Watch'] = (key, opts) => this.v2.v2Watch(key, opts);
  v2Index = (): number => this.v2.v2Index();
  v2AuthProbe = (): boolean => this.v2.v2AuthProbe();
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
