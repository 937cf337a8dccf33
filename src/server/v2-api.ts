/*
 * The v2 half of the facade: /v2/keys writes and quorum reads go through raft as V2Requests carrying
 * the proposer's clock; plain reads and watches use this member's v2 store; stats and members read
 * the member's state.
 */
import { StateType } from '../raft/index.js';
import { None } from '../raft/types.js';
import { etcdExpirationMs, type V2Event, type V2StoreStats, type V2Watcher } from '../v2store/index.js';
import type { V2HeaderInfo, V2KeysRequest, V2LeaderStats, V2Member, V2SelfStats } from './facade.js';
import type { V2Request } from './internal-request.js';
import type { EtcdServer } from './server.js';

export class V2Api {
  constructor(private readonly s: EtcdServer) {}

  async v2Keys(req: V2KeysRequest): Promise<V2Event> {
    const now = this.s.now();
    if (req.method === 'GET' && !req.quorum) return this.s.v2.get(req.key, { recursive: req.recursive, sorted: req.sorted }, now);
    const v2: Partial<V2Request> = {
      method: req.method === 'GET' ? 'QGET' : req.method,
      path: req.key,
      val: req.value ?? '',
      dir: req.dir,
      prev_value: req.prevValue ?? '',
      prev_index: String(req.prevIndex ?? 0),
      has_prev_exist: req.prevExist !== undefined,
      prev_exist: req.prevExist ?? false,
      expiration_ms: req.ttlSeconds === undefined ? '0' : String(etcdExpirationMs(now, req.ttlSeconds)),
      recursive: req.recursive,
      sorted: req.sorted,
      refresh: req.refresh,
      unique: req.method === 'POST',
      time_ms: String(now),
    };
    const r = await this.s.propose({ v2 });
    if (r.kind !== 'v2') throw new Error(`v2 request applied as ${r.kind}`);
    if (r.error) throw r.error;
    if (!r.event) throw new Error('v2 request applied without an event');
    return r.event;
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

  v2MembershipProbe(): void {
    this.s.v2.membershipReadProbe();
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
      recvAppendRequestCnt: 0,
      sendAppendRequestCnt: 0,
    };
  }

  v2LeaderStats(): V2LeaderStats | undefined {
    if (!this.s.isLeader() || this.s.lead === None) return undefined;
    return { leader: this.s.memberId, followers: [] };
  }
}
