/**
 * The facade: everything the API layers (gRPC v3, the JSON gateway, v2) ask of the server.
 * TYPE-ONLY: the server implements `EtcdServerFacade`; api/ imports nothing else from server/.
 *
 * Message shapes are the generated pb types (src/pb, loader options in src/api/v3/proto.ts):
 * requests arrive as `X__Output` (every field present, keepCase names, int64 as decimal string,
 * bytes as Buffer, enums as names, oneofs name their set field); responses are the permissive
 * `X` types (int64 may be number, decimal string or Long; NEVER bigint: convert ids with
 * `id.toString()`). Revisions fit a JS number; cluster/member/lease ids need the string form.
 *
 * Contract:
 *  - Unary calls resolve with the complete response INCLUDING `header` (cluster_id, member_id,
 *    revision, raft_term), or reject with `EtcdError` (src/server/errors.ts). Any other rejection
 *    reaches the client as gRPC UNKNOWN with the error's message.
 *  - The API has already validated the request as etcd's v3rpc layer does (empty key, txn op count
 *    and duplicate keys, ignore_* conflicts, member URLs, request size) before calling.
 *  - `ctx` is absent on the hot path when the client sent no auth token and the call cannot block.
 */
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { RangeResponse } from '../pb/etcdserverpb/RangeResponse.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { PutResponse } from '../pb/etcdserverpb/PutResponse.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { DeleteRangeResponse } from '../pb/etcdserverpb/DeleteRangeResponse.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import type { TxnResponse } from '../pb/etcdserverpb/TxnResponse.js';
import type { CompactionRequest__Output } from '../pb/etcdserverpb/CompactionRequest.js';
import type { CompactionResponse } from '../pb/etcdserverpb/CompactionResponse.js';
import type { LeaseGrantRequest__Output } from '../pb/etcdserverpb/LeaseGrantRequest.js';
import type { LeaseGrantResponse } from '../pb/etcdserverpb/LeaseGrantResponse.js';
import type { LeaseRevokeRequest__Output } from '../pb/etcdserverpb/LeaseRevokeRequest.js';
import type { LeaseRevokeResponse } from '../pb/etcdserverpb/LeaseRevokeResponse.js';
import type { LeaseKeepAliveRequest__Output } from '../pb/etcdserverpb/LeaseKeepAliveRequest.js';
import type { LeaseKeepAliveResponse } from '../pb/etcdserverpb/LeaseKeepAliveResponse.js';
import type { LeaseTimeToLiveRequest__Output } from '../pb/etcdserverpb/LeaseTimeToLiveRequest.js';
import type { LeaseTimeToLiveResponse } from '../pb/etcdserverpb/LeaseTimeToLiveResponse.js';
import type { LeaseLeasesRequest__Output } from '../pb/etcdserverpb/LeaseLeasesRequest.js';
import type { LeaseLeasesResponse } from '../pb/etcdserverpb/LeaseLeasesResponse.js';
import type { MemberAddRequest__Output } from '../pb/etcdserverpb/MemberAddRequest.js';
import type { MemberAddResponse } from '../pb/etcdserverpb/MemberAddResponse.js';
import type { MemberRemoveRequest__Output } from '../pb/etcdserverpb/MemberRemoveRequest.js';
import type { MemberRemoveResponse } from '../pb/etcdserverpb/MemberRemoveResponse.js';
import type { MemberUpdateRequest__Output } from '../pb/etcdserverpb/MemberUpdateRequest.js';
import type { MemberUpdateResponse } from '../pb/etcdserverpb/MemberUpdateResponse.js';
import type { MemberListRequest__Output } from '../pb/etcdserverpb/MemberListRequest.js';
import type { MemberListResponse } from '../pb/etcdserverpb/MemberListResponse.js';
import type { MemberPromoteRequest__Output } from '../pb/etcdserverpb/MemberPromoteRequest.js';
import type { MemberPromoteResponse } from '../pb/etcdserverpb/MemberPromoteResponse.js';
import type { AlarmRequest__Output } from '../pb/etcdserverpb/AlarmRequest.js';
import type { AlarmResponse } from '../pb/etcdserverpb/AlarmResponse.js';
import type { StatusRequest__Output } from '../pb/etcdserverpb/StatusRequest.js';
import type { StatusResponse } from '../pb/etcdserverpb/StatusResponse.js';
import type { DefragmentRequest__Output } from '../pb/etcdserverpb/DefragmentRequest.js';
import type { DefragmentResponse } from '../pb/etcdserverpb/DefragmentResponse.js';
import type { HashRequest__Output } from '../pb/etcdserverpb/HashRequest.js';
import type { HashResponse } from '../pb/etcdserverpb/HashResponse.js';
import type { HashKVRequest__Output } from '../pb/etcdserverpb/HashKVRequest.js';
import type { HashKVResponse } from '../pb/etcdserverpb/HashKVResponse.js';
import type { MoveLeaderRequest__Output } from '../pb/etcdserverpb/MoveLeaderRequest.js';
import type { MoveLeaderResponse } from '../pb/etcdserverpb/MoveLeaderResponse.js';
import type { Event } from '../pb/mvccpb/Event.js';
import type { LockRequest__Output } from '../pb/v3lockpb/LockRequest.js';
import type { LockResponse } from '../pb/v3lockpb/LockResponse.js';
import type { UnlockRequest__Output } from '../pb/v3lockpb/UnlockRequest.js';
import type { UnlockResponse } from '../pb/v3lockpb/UnlockResponse.js';
import type { CampaignRequest__Output } from '../pb/v3electionpb/CampaignRequest.js';
import type { CampaignResponse } from '../pb/v3electionpb/CampaignResponse.js';
import type { ProclaimRequest__Output } from '../pb/v3electionpb/ProclaimRequest.js';
import type { ProclaimResponse } from '../pb/v3electionpb/ProclaimResponse.js';
import type { LeaderRequest__Output } from '../pb/v3electionpb/LeaderRequest.js';
import type { LeaderResponse } from '../pb/v3electionpb/LeaderResponse.js';
import type { ResignRequest__Output } from '../pb/v3electionpb/ResignRequest.js';
import type { ResignResponse } from '../pb/v3electionpb/ResignResponse.js';
import type { AuthEnableRequest__Output } from '../pb/etcdserverpb/AuthEnableRequest.js';
import type { AuthEnableResponse } from '../pb/etcdserverpb/AuthEnableResponse.js';
import type { AuthDisableRequest__Output } from '../pb/etcdserverpb/AuthDisableRequest.js';
import type { AuthDisableResponse } from '../pb/etcdserverpb/AuthDisableResponse.js';
import type { AuthenticateRequest__Output } from '../pb/etcdserverpb/AuthenticateRequest.js';
import type { AuthenticateResponse } from '../pb/etcdserverpb/AuthenticateResponse.js';
import type { AuthUserAddRequest__Output } from '../pb/etcdserverpb/AuthUserAddRequest.js';
import type { AuthUserAddResponse } from '../pb/etcdserverpb/AuthUserAddResponse.js';
import type { AuthUserGetRequest__Output } from '../pb/etcdserverpb/AuthUserGetRequest.js';
import type { AuthUserGetResponse } from '../pb/etcdserverpb/AuthUserGetResponse.js';
import type { AuthUserListRequest__Output } from '../pb/etcdserverpb/AuthUserListRequest.js';
import type { AuthUserListResponse } from '../pb/etcdserverpb/AuthUserListResponse.js';
import type { AuthUserDeleteRequest__Output } from '../pb/etcdserverpb/AuthUserDeleteRequest.js';
import type { AuthUserDeleteResponse } from '../pb/etcdserverpb/AuthUserDeleteResponse.js';
import type { AuthUserChangePasswordRequest__Output } from '../pb/etcdserverpb/AuthUserChangePasswordRequest.js';
import type { AuthUserChangePasswordResponse } from '../pb/etcdserverpb/AuthUserChangePasswordResponse.js';
import type { AuthUserGrantRoleRequest__Output } from '../pb/etcdserverpb/AuthUserGrantRoleRequest.js';
import type { AuthUserGrantRoleResponse } from '../pb/etcdserverpb/AuthUserGrantRoleResponse.js';
import type { AuthUserRevokeRoleRequest__Output } from '../pb/etcdserverpb/AuthUserRevokeRoleRequest.js';
import type { AuthUserRevokeRoleResponse } from '../pb/etcdserverpb/AuthUserRevokeRoleResponse.js';
import type { AuthRoleAddRequest__Output } from '../pb/etcdserverpb/AuthRoleAddRequest.js';
import type { AuthRoleAddResponse } from '../pb/etcdserverpb/AuthRoleAddResponse.js';
import type { AuthRoleGetRequest__Output } from '../pb/etcdserverpb/AuthRoleGetRequest.js';
import type { AuthRoleGetResponse } from '../pb/etcdserverpb/AuthRoleGetResponse.js';
import type { AuthRoleListRequest__Output } from '../pb/etcdserverpb/AuthRoleListRequest.js';
import type { AuthRoleListResponse } from '../pb/etcdserverpb/AuthRoleListResponse.js';
import type { AuthRoleDeleteRequest__Output } from '../pb/etcdserverpb/AuthRoleDeleteRequest.js';
import type { AuthRoleDeleteResponse } from '../pb/etcdserverpb/AuthRoleDeleteResponse.js';
import type { AuthRoleGrantPermissionRequest__Output } from '../pb/etcdserverpb/AuthRoleGrantPermissionRequest.js';
import type { AuthRoleGrantPermissionResponse } from '../pb/etcdserverpb/AuthRoleGrantPermissionResponse.js';
import type { AuthRoleRevokePermissionRequest__Output } from '../pb/etcdserverpb/AuthRoleRevokePermissionRequest.js';
import type { AuthRoleRevokePermissionResponse } from '../pb/etcdserverpb/AuthRoleRevokePermissionResponse.js';

export type { EtcdErrorCode } from './errors.js';
import type { V2Event, V2StoreStats, V2Watcher } from '../v2store/index.js';

/** Per-call context. `token`: the auth token (gRPC metadata "token" / HTTP "Authorization"). */
export interface CallContext {
  readonly token?: string;
  /** The common name of the client's verified TLS certificate (gRPC only; the gateway never sets it). */
  readonly commonName?: string;
  /** Aborted when the client goes away; given to calls that may block (lock, campaign, observe, snapshot). */
  readonly signal?: AbortSignal;
}

/** What a response header needs; read synchronously (watch and keepalive stream responses). */
export interface HeaderInfo {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly raftTerm: number;
  /** Current revision of the key space (the last applied one). */
  readonly revision: number;
}

/** GET /version and Status.version. */
export interface VersionInfo {
  /** e.g. "3.4.23" */
  readonly etcdserver: string;
  /** e.g. "3.4.0" */
  readonly etcdcluster: string;
}

/** A snapshot of the backend: `size` bytes delivered by `chunks` (the API appends the sha256). */
export interface SnapshotSource {
  readonly size: number;
  readonly chunks: AsyncIterable<Uint8Array>;
}

/**
 * One watcher as the API asks for it. The API has chosen `watchId` (client's or its own), turned an
 * empty key into "\0", an empty range_end into "single key" and "\0" into "all keys >= key".
 */
export interface WatcherSpec {
  readonly watchId: number;
  readonly key: Buffer;
  /** empty = just `key`; otherwise [key, rangeEnd) with "\0" meaning +infinity. */
  readonly rangeEnd: Buffer;
  /**
   * Inclusive, always >= 1: the API turns etcd's "0 = now" into revision() + 1 (read in the same
   * tick as the registration). Below the compaction revision: answer with a compactRevision batch.
   */
  readonly startRevision: number;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  /** The server attaches prev_kv to each event (nothing if it is compacted away). */
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
}

/**
 * What the server hands to a watch stream. Exactly one of:
 *  - events: filtered (NOPUT/NODELETE applied) events of ONE watcher, never splitting one
 *    revision across two batches, with prev_kv filled if asked; `revision` = header revision
 *    (the store revision when sent);
 *  - compactRevision > 0: the watcher's start revision was compacted; the API sends a canceled
 *    response and the server forgets the watcher;
 *  - events empty and compactRevision 0: a progress notification at `revision` (watchId -1: the
 *    answer to a progress request, for the whole stream).
 */
export interface WatchBatch {
  readonly watchId: number;
  readonly events: Event[];
  readonly revision: number;
  readonly compactRevision: number;
}

/** Implemented by the API, one per client stream; the server calls it. */
export interface WatchSink {
  /**
   * Deliver a batch. Returns false when the stream is congested (its send buffer is above its
   * limit): the batch was NOT taken, the server must keep it and retry (etcd's "victim" watchers).
   */
  send(batch: WatchBatch): boolean;
}

/** Implemented by the server, one per client stream; the API calls it. */
export interface WatchStream {
  /**
   * Register a watcher (the API has checked its id is unused on this stream and its range is not
   * empty). May call sink.send synchronously for history; the API holds such batches until its
   * "created" response is written. Returns the store revision at registration. Throws only for
   * server faults (e.g. EtcdError 'Stopped'); the client then gets created+canceled with the
   * error's message as cancel_reason.
   */
  watch(spec: WatcherSpec): number;
  /** Remove a watcher; false if unknown. */
  cancel(watchId: number): boolean;
  /** Current store revision (header of cancel / progress answers). */
  revision(): number;
  /**
   * A WatchProgressRequest: the server sends a batch with watchId -1 and no events at the store
   * revision once every watcher of the stream has been sent everything up to it. Without it, the
   * API answers at once with revision().
   */
  requestProgress?(): void;
  /** Drop every watcher of this stream (client went away). Idempotent. */
  close(): void;
  /** When set, the stream's identity is being resolved: the API holds its requests, in order, until it settles. */
  readonly ready?: Promise<void>;
}

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface EtcdServerFacade extends AuthFacade, V2Facade {
  // ---- KV ----
  range(req: RangeRequest__Output, ctx?: CallContext): Promise<RangeResponse>;
  put(req: PutRequest__Output, ctx?: CallContext): Promise<PutResponse>;
  deleteRange(req: DeleteRangeRequest__Output, ctx?: CallContext): Promise<DeleteRangeResponse>;
  txn(req: TxnRequest__Output, ctx?: CallContext): Promise<TxnResponse>;
  compact(req: CompactionRequest__Output, ctx?: CallContext): Promise<CompactionResponse>;

  // ---- Watch ----
  openWatchStream(sink: WatchSink, ctx?: CallContext): WatchStream;

  // ---- Lease ----
  leaseGrant(req: LeaseGrantRequest__Output, ctx?: CallContext): Promise<LeaseGrantResponse>;
  leaseRevoke(req: LeaseRevokeRequest__Output, ctx?: CallContext): Promise<LeaseRevokeResponse>;
  /** One renewal. Unknown lease: reject with 'LeaseNotFound' (the API answers TTL 0, as etcd). */
  leaseKeepAlive(req: LeaseKeepAliveRequest__Output, ctx?: CallContext): Promise<LeaseKeepAliveResponse>;
  leaseTimeToLive(req: LeaseTimeToLiveRequest__Output, ctx?: CallContext): Promise<LeaseTimeToLiveResponse>;
  leaseLeases(req: LeaseLeasesRequest__Output, ctx?: CallContext): Promise<LeaseLeasesResponse>;

  // ---- Cluster ----
  memberAdd(req: MemberAddRequest__Output, ctx?: CallContext): Promise<MemberAddResponse>;
  memberRemove(req: MemberRemoveRequest__Output, ctx?: CallContext): Promise<MemberRemoveResponse>;
  memberUpdate(req: MemberUpdateRequest__Output, ctx?: CallContext): Promise<MemberUpdateResponse>;
  memberList(req: MemberListRequest__Output, ctx?: CallContext): Promise<MemberListResponse>;
  memberPromote(req: MemberPromoteRequest__Output, ctx?: CallContext): Promise<MemberPromoteResponse>;
  /** Whether this member is a learner now (it then serves only what etcd lets a learner serve). */
  isLearner?(): boolean;

  // ---- Maintenance ----
  alarm(req: AlarmRequest__Output, ctx?: CallContext): Promise<AlarmResponse>;
  status(req: StatusRequest__Output, ctx?: CallContext): Promise<StatusResponse>;
  defragment(req: DefragmentRequest__Output, ctx?: CallContext): Promise<DefragmentResponse>;
  hash(req: HashRequest__Output, ctx?: CallContext): Promise<HashResponse>;
  hashKV(req: HashKVRequest__Output, ctx?: CallContext): Promise<HashKVResponse>;
  moveLeader(req: MoveLeaderRequest__Output, ctx?: CallContext): Promise<MoveLeaderResponse>;
  /** A consistent image of the backend; the API streams it in 32 KiB pieces + sha256 trailer. */
  snapshot(ctx?: CallContext): Promise<SnapshotSource>;

  // ---- v3lockpb.Lock (blocking: ctx.signal is set) ----
  lock(req: LockRequest__Output, ctx?: CallContext): Promise<LockResponse>;
  unlock(req: UnlockRequest__Output, ctx?: CallContext): Promise<UnlockResponse>;

  // ---- v3electionpb.Election ----
  campaign(req: CampaignRequest__Output, ctx?: CallContext): Promise<CampaignResponse>;
  proclaim(req: ProclaimRequest__Output, ctx?: CallContext): Promise<ProclaimResponse>;
  leader(req: LeaderRequest__Output, ctx?: CallContext): Promise<LeaderResponse>;
  /** Ends when ctx.signal aborts (the iterator's return() is also called). */
  observe(req: LeaderRequest__Output, ctx?: CallContext): AsyncIterable<LeaderResponse>;
  resign(req: ResignRequest__Output, ctx?: CallContext): Promise<ResignResponse>;

  // ---- health (GET /health), as etcd 3.4 decides it ----
  /** Local inputs: how many alarms are raised, whether a leader is known. */
  healthState(): { readonly alarms: number; readonly hasLeader: boolean };
  /** A read through raft (etcd's QGET): resolves once applied; the caller bounds it in time. */
  healthRead(): Promise<void>;

  // ---- synchronous state for headers, health and version ----
  header(): HeaderInfo;
  /** grpc.health.v1 status of the "" service; NOT_SERVING while stopping. */
  servingStatus(): ServingStatus;
  version(): VersionInfo;
}


/**
 * The Auth service. A server without auth enabled answers as etcd 3.4 does (Authenticate rejects
 * with 'AuthNotEnabled'; user and role management still works).
 */
export interface AuthFacade {
  authEnable(req: AuthEnableRequest__Output, ctx?: CallContext): Promise<AuthEnableResponse>;
  authDisable(req: AuthDisableRequest__Output, ctx?: CallContext): Promise<AuthDisableResponse>;
  authenticate(req: AuthenticateRequest__Output, ctx?: CallContext): Promise<AuthenticateResponse>;
  userAdd(req: AuthUserAddRequest__Output, ctx?: CallContext): Promise<AuthUserAddResponse>;
  userGet(req: AuthUserGetRequest__Output, ctx?: CallContext): Promise<AuthUserGetResponse>;
  userList(req: AuthUserListRequest__Output, ctx?: CallContext): Promise<AuthUserListResponse>;
  userDelete(req: AuthUserDeleteRequest__Output, ctx?: CallContext): Promise<AuthUserDeleteResponse>;
  userChangePassword(
    req: AuthUserChangePasswordRequest__Output,
    ctx?: CallContext,
  ): Promise<AuthUserChangePasswordResponse>;
  userGrantRole(req: AuthUserGrantRoleRequest__Output, ctx?: CallContext): Promise<AuthUserGrantRoleResponse>;
  userRevokeRole(req: AuthUserRevokeRoleRequest__Output, ctx?: CallContext): Promise<AuthUserRevokeRoleResponse>;
  roleAdd(req: AuthRoleAddRequest__Output, ctx?: CallContext): Promise<AuthRoleAddResponse>;
  roleGet(req: AuthRoleGetRequest__Output, ctx?: CallContext): Promise<AuthRoleGetResponse>;
  roleList(req: AuthRoleListRequest__Output, ctx?: CallContext): Promise<AuthRoleListResponse>;
  roleDelete(req: AuthRoleDeleteRequest__Output, ctx?: CallContext): Promise<AuthRoleDeleteResponse>;
  roleGrantPermission(
    req: AuthRoleGrantPermissionRequest__Output,
    ctx?: CallContext,
  ): Promise<AuthRoleGrantPermissionResponse>;
  roleRevokePermission(
    req: AuthRoleRevokePermissionRequest__Output,
    ctx?: CallContext,
  ): Promise<AuthRoleRevokePermissionResponse>;
}

// ---- the v2 API (/v2/keys, /v2/members, /v2/stats) ----

/** A /v2/keys request as the HTTP layer parsed and validated it (200-series errors are the HTTP layer's). */
export interface V2KeysRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** The user key as given in the URL path ("/foo/bar"). */
  readonly key: string;
  readonly value?: string;
  readonly dir: boolean;
  /** undefined = no TTL (a write without ttl makes the node permanent). */
  readonly ttlSeconds?: number | bigint;
  readonly refresh: boolean;
  readonly prevValue?: string;
  /** 0/undefined = not given; a bigint above 2^53 - 1 (uint64 as the client wrote it). */
  readonly prevIndex?: number | bigint;
  /** undefined = not given. */
  readonly prevExist?: boolean;
  readonly recursive: boolean;
  readonly sorted: boolean;
  /** GET through raft (linearizable) instead of the local store. */
  readonly quorum: boolean;
  /**
   * Form fields etcd copies into the replicated request whatever the method, so that ours is
   * byte for byte etcd's: whether refresh was given at all (Refresh is nullable), the quorum flag as
   * given, waitIndex (Since) and stream. Absent: none of them given.
   */
  readonly given?: { readonly refresh: boolean; readonly quorum: boolean; readonly waitIndex: number | bigint; readonly stream: boolean };
}

/** A request of etcd's v2 auth store on its internal tree under /2 (see V2Facade.v2AuthRequest). */
export interface V2AuthRequest {
  readonly method: 'PUT' | 'DELETE' | 'QGET';
  /** The store path, "/2" or below. */
  readonly path: string;
  readonly value?: string;
  readonly dir?: boolean;
  /** undefined = not given (etcd's nullable PrevExist). */
  readonly prevExist?: boolean;
}

/** Headers of every v2 response (X-Etcd-Cluster-Id, X-Raft-Index, X-Raft-Term). */
export interface V2HeaderInfo {
  readonly clusterId: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
}

export interface V2Member {
  readonly id: bigint;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/**
 * What the v2 HTTP layer asks of the server. Writes and quorum GETs go through raft and are applied
 * to the v2 store in log order; plain GETs and watches read the member's own store. Domain failures
 * reject with V2Error (src/v2store: error code, cause, index); raft failures (timeout, stopping) with
 * EtcdError, which the HTTP layer answers as etcd's 300 "Raft Internal Error" / 500.
 */
export interface V2Facade {
  v2Keys(req: V2KeysRequest): Promise<V2Event>;
  /** A watcher from `sinceIndex` (0 = the next change); throws V2Error 401 when it is too old. */
  v2Watch(key: string, opts: { recursive: boolean; stream: boolean; sinceIndex: number }): V2Watcher;
  /** The store index now (X-Etcd-Index for requests that do not produce an event). */
  v2Index(): number;
  /** etcd's per-request read of /2/enabled (counted in the store stats): whether v2 auth is on. */
  v2AuthProbe(): boolean;
  /**
   * A v2 request on etcd's v2 auth tree (/2, /2/users/<name>, /2/roles/<name>, /2/enabled) through
   * raft, as etcd's v2auth store sends it: PUT (value, dir, prevExist), DELETE, QGET. Rejects with
   * V2Error as v2Keys does; a path outside /2 is refused (an Error).
   */
  v2AuthRequest(req: V2AuthRequest): Promise<V2Event>;
  /** A local (non-quorum) read of a path in the v2 auth tree, counted as a get; throws V2Error. */
  v2AuthGet(path: string): V2Event;
  v2StoreStats(): V2StoreStats;
  v2Header(): V2HeaderInfo;
  v2Members(): V2Member[];
  /** /v2/stats/self values; the HTTP layer renders etcd's JSON (times as RFC 3339, uptime as a Go duration). */
  v2SelfStats(): V2SelfStats;
  /** /v2/stats/leader: only the leader answers (others: undefined → etcd's 403 "not current leader"). */
  v2LeaderStats(): V2LeaderStats | undefined;
}

export interface V2SelfStats {
  readonly name: string;
  readonly id: bigint;
  readonly state: 'StateFollower' | 'StateCandidate' | 'StateLeader' | 'StatePreCandidate';
  readonly startTimeMs: number;
  readonly leader: bigint;
  /** When the current leader became leader, as this member saw it. */
  readonly leaderStartTimeMs: number;
  readonly recvAppendRequestCnt: number;
  readonly sendAppendRequestCnt: number;
}

export interface V2LeaderStats {
  readonly leader: bigint;
  /** One per follower (none in a cluster of one). */
  readonly followers: ReadonlyArray<{ id: bigint; latencyMs: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number }; fail: number; success: number }>;
}
