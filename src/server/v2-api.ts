/*
 * The v2 half of the facade: /v2/keys writes and quorum reads go through raft as etcd's bare
 * etcdserverpb.Request (v2KeysRequest); plain reads and watches use this member's v2 store; stats and
 * members read the member's state.
 */
import { StateType } from '../raft/index.js';
import { None } from '../raft/types.js';
import { cleanPath, etcdExpirationNs, internalPath, type V2Event, type V2StoreStats, type V2Watcher } from '../v2store/index.js';
import type { V2AuthRequest, V2HeaderInfo, V2KeysRequest, V2LeaderStats, V2Member, V2SelfStats } from './facade.js';
import { newV2Request, type V2Request } from './internal-request.js';
import type { ApplyOutcome } from './apply.js';
import type { EtcdServer } from './server.js';

/**
 * The Request etcd's v2 HTTP layer proposes for `req` (parseKeyRequest, then Handle's GET with quorum
 * → QGET) at `nowNs` (unix ns): Path "/1" + the cleaned key, Expiration now + ttl (Go's int64 arithmetic), Time 0
 * (etcd's store reads its own clock when it applies a write), PrevExist and Refresh only when given.
 */
export function v2KeysRequest(req: V2KeysRequest, nowNs: bigint): V2Request {
  const given = req.given;
  return newV2Request({
    Method: req.method === 'GET' ? 'QGET' : req.method,
    Path: internalPath(req.key),
    Val: req.value ?? '',
    Dir: req.dir,
    PrevValue: req.prevValue ?? '',
    PrevIndex: BigInt(req.prevIndex ?? 0),
    PrevExist: req.prevExist,
    Expiration: req.ttlSeconds === undefined ? 0n : etcdExpirationNs(nowNs, req.ttlSeconds),
    Since: BigInt(given?.waitIndex ?? 0),
    Recursive: req.recursive,
    Sorted: req.sorted,
    Quorum: given?.quorum ?? req.quorum,
    Stream: given?.stream ?? false,
    Refresh: given?.refresh || req.refresh ? req.refresh : undefined,
  });
}

/** A path of etcd's v2 auth tree, cleaned as etcd's store cleans it; anything outside /2 is a bug of the caller. */
function authPath(p: string): string {
  const clean = cleanPath(p);
  if (clean !== '/2' && !clean.startsWith('/2/')) throw new Error(`v2 auth: ${JSON.stringify(p)} is outside /2`);
  return clean;
}

/** The event of an applied v2 request; its V2Error thrown. */
function eventOf(r: ApplyOutcome): V2Event {
  if (r.kind !== 'v2') throw new Error(`v2 request applied as ${r.kind}`);
  if (r.error) throw r.error;
  if (!r.event) throw new Error('v2 request applied without an event');
  return r.event;
}

export class V2Api {
  constructor(private readonly s: EtcdServer) {}

  async v2Keys(req: V2KeysRequest): Promise<V2Event> {
    const now = this.s.now();
    if (req.method === 'GET' && !req.quorum) return this.s.v2.get(req.key, { recursive: req.recursive, sorted: req.sorted }, now);
    return eventOf(await this.s.proposeV2(v2KeysRequest(req, BigInt(Math.floor(now)) * 1_000_000n)));
  }

  /** etcd's v2auth store requests: bare Requests on /2 paths, as its setResource/deleteResource/QGET make them. */
  async v2AuthRequest(req: V2AuthRequest): Promise<V2Event> {
    authPath(req.path); // refuses a path outside /2
    return eventOf(await this.s.proposeV2(newV2Request({
      // the path as etcd's store sends it ("/2/users/" keeps its slash in the entry)
      Method: req.method, Path: req.path, Val: req.value ?? '', Dir: req.dir ?? false, PrevExist: req.prevExist,
    })));
  }

  v2AuthGet(path: string): V2Event {
    return this.s.v2.getAt(authPath(path), {}, this.s.now());
  }

  v2Watch(key: string, opts: { recursive: boolean; stream: boolean; sinceIndex: number }): V2Watcher {
    return this.s.v2.watch(key, opts);
  }

  v2Index(): number {
    return this.s.v2.index();
  }

  v2AuthProbe(): boolean {
    return this.s.v2.authEnabledProbe();
  }

  v2StoreStats(): V2StoreStats {
    return this.s.v2.statsJson();
  }

  v2Header(): V2HeaderInfo {
    return { clusterId: this.s.clusterId, raftIndex: this.s.appliedIndex, raftTerm: this.s.term };
  }

  v2Members(): V2Member[] {
    return this.s.cluster.members().map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
  }

  v2SelfStats(): V2SelfStats {
    const soft = this.s.raftStatus.softState;
    return {
      name: this.s.cfg.name,
      id: this.s.memberId,
      state: StateType[soft.raftState] as V2SelfStats['state'],
      startTimeMs: this.s.startTimeMs,
      leader: this.s.lead,
      leaderStartTimeMs: this.s.leaderSinceMs,
      recvAppendRequestCnt: this.s.peers.transport.stats.recvAppendRequestCnt,
      sendAppendRequestCnt: this.s.peers.transport.stats.sendAppendRequestCnt,
    };
  }

  v2LeaderStats(): V2LeaderStats | undefined {
    if (!this.s.isLeader() || this.s.lead === None) return undefined;
    const followers = [...this.s.peers.transport.stats.followers].map(([id, f]) => ({
      id,
      latencyMs: { current: f.current, average: f.average, standardDeviation: f.standardDeviation, minimum: f.minimum, maximum: f.maximum },
      fail: f.fail,
      success: f.success,
    }));
    return { leader: this.s.memberId, followers };
  }
}
