/*
 * The member among its peers: the peer transport (etcd's rafthttp), kept in step with the applied
 * membership, the receiving side of raft messages, and the calls a follower forwards to the leader
 * over the peer URLs (lease renewals and time-to-live, as etcd's leasehttp does).
 */
import type { Logger } from '../pkg/logger.js';
import type { Counter } from '../pkg/prom.js';
import { observer, tally, type EtcdMetrics, type Observer, type Tally } from '../pkg/metrics.js';
import type { RawNode } from '../raft/index.js';
import { MessageType, type Message, type NodeId } from '../raft/types.js';
import type { Member, RaftCluster } from '../membership/index.js';
import { PeerTransport, RemovedMemberError, type MemberTransport, type PeerTransportOptions, type Receiver, type SnapshotToSend, type TransportObserver } from '../transport/index.js';
import type { PeerClientTls } from '../transport/dial.js';

export interface PeersDeps {
  localId: bigint;
  clusterId: bigint;
  peerUrls: string[];
  cluster: RaftCluster;
  logger: Logger;
  tls?: PeerClientTls;
  node(): RawNode;
  /** Runs the Ready loop (after raft was told something outside step). */
  kick(): void;
  /** Steps a message into raft and runs the Ready loop. */
  step(m: Message): void;
  /** Saves the database that came with a MsgSnap, before raft sees the message. */
  receiveSnapshot(m: Message, db: AsyncIterable<Uint8Array>): Promise<void>;
  /** The message and database to send for a MsgSnap from raft (etcd's merged snapshot). */
  snapshotDb(m: Message): SnapshotToSend;
  /** A peer told us we were removed: the member stops. */
  onRemoved(): void;
  observe?: TransportObserver;
  /** Makes the transport (default etcd's peer protocol over HTTP: PeerTransport). */
  newTransport?(opts: PeerTransportOptions): MemberTransport;
}

/** The transport's observations as etcd's etcd_network_* metrics (peers labelled by hex id). */
export function peerMetrics(m: EtcdMetrics, localId: bigint): TransportObserver {
  const hex = (id: bigint): string => id.toString(16);
  // one set of series per peer, made on its first use (no label hashing per message)
  const perPeer = new Map<bigint, { sent: Tally; received: Tally; failures: Tally; rtt: Observer; disconnected: Tally }>();
  const of = (peer: bigint) => {
    let p = perPeer.get(peer);
    if (p === undefined) {
      const to = { To: hex(peer) };
      p = {
        sent: tally(m.peerSentBytes, to),
        received: tally(m.peerReceivedBytes, { From: hex(peer) }),
        failures: tally(m.peerSentFailures, to),
        rtt: observer(m.peerRoundTripSeconds, to),
        disconnected: tally(m.byName.get('etcd_network_disconnected_peers_total') as Counter<string>, { Local: hex(localId), Remote: hex(peer) }),
      };
      perPeer.set(peer, p);
    }
    return p;
  };
  return {
    bytes: (peer, dir, n) => (dir === 'sent' ? of(peer).sent.add(n) : of(peer).received.add(n)),
    sendFailure: (peer) => of(peer).failures.inc(),
    roundTrip: (peer, s) => of(peer).rtt.observe(s),
    active: (peer, up) => {
      m.activePeers.inc({ Local: hex(localId), Remote: hex(peer) }, up ? 1 : -1);
      if (!up) of(peer).disconnected.inc();
    },
  };
}

export class Peers implements Receiver {
  readonly transport: MemberTransport;
  private known = new Map<bigint, string>();
  /** A joining member's view of the running cluster, kept until the applied membership includes us. */
  private remotes: Member[] = [];

  constructor(private readonly d: PeersDeps) {
    const newTransport = d.newTransport ?? ((opts: PeerTransportOptions) => new PeerTransport(opts));
    this.transport = newTransport({
      local: { id: d.localId, clusterId: d.clusterId, peerUrls: d.peerUrls },
      receiver: this,
      logger: d.logger,
      tls: d.tls,
      onRemoved: () => d.onRemoved(),
      observe: d.observe,
      receiveSnapshot: (m, db) => d.receiveSnapshot(m, db),
      snapshotDb: (m) => d.snapshotDb(m),
    });
  }

  process(m: Message): void {
    if (this.d.cluster.isRemoved(m.from)) throw new RemovedMemberError();
    if (m.type === MessageType.MsgApp) this.transport.stats.recvAppendRequestCnt++;
    this.d.step(m);
  }

  isIdRemoved(id: NodeId): boolean {
    return this.d.cluster.isRemoved(id);
  }

  reportUnreachable(id: NodeId): void {
    this.d.node().reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, failed: boolean): void {
    this.d.node().reportSnapshot(id, failed);
    this.d.kick();
  }

  /** A joining member reaches the members the running cluster told it of (etcd's AddRemote). */
  addRemotes(members: Member[]): void {
    this.remotes = members;
    this.sync();
  }

  /**
   * A post from a member we have no link to (etcd's AddRemote from a request): it gets one, so raft's
   * answers reach it. The next sync drops it again unless the membership (or a joining member's
   * remotes) names it by then.
   */
  addRemote(id: NodeId, peerUrls: string[]): void {
    if (id === this.d.localId || this.known.has(id) || this.d.cluster.isRemoved(id)) return;
    this.transport.addPeer(id, peerUrls);
    this.known.set(id, peerUrls.join(','));
  }

  /** Adds, updates and removes transport peers to match the applied membership. */
  sync(): void {
    const now = new Map<bigint, string>();
    const joined = this.d.cluster.member(this.d.localId) !== undefined;
    if (joined) this.remotes = [];
    const applied = this.d.cluster.members();
    const extra = this.remotes.filter((r) => !applied.some((m) => m.id === r.id));
    for (const m of [...applied, ...extra]) {
      if (m.id === this.d.localId) continue;
      const urls = m.peerURLs.join(',');
      now.set(m.id, urls);
      const before = this.known.get(m.id);
      if (before === undefined) this.transport.addPeer(m.id, m.peerURLs);
      else if (before !== urls) this.transport.updatePeer(m.id, m.peerURLs);
    }
    for (const id of this.known.keys()) if (!now.has(id)) this.transport.removePeer(id);
    this.known = now;
  }

  /** Posts to the leader's peer URLs in turn; the first answer wins. */
  async postToMember(id: bigint, path: string, body: Uint8Array, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
    const m = this.d.cluster.member(id);
    if (!m) throw new Error(`member ${id.toString(16)} not found`);
    let last: unknown = new Error('no peer URL');
    for (const url of m.peerURLs) {
      try {
        return await this.transport.postRaw(url, path, body, timeoutMs);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
