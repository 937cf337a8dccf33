/*
 * The simulation's peer transport (transport/contract.ts's MemberTransport) over one simulated
 * network: each message is delayed 1..maxDelayMs on the simulated clock (so messages reorder), may be
 * dropped or duplicated, and is cut by a partition; a MsgSnap carries the sender's merged snapshot
 * (its database read whole before it leaves), saved by the receiver (receiveSnapshot) before raft
 * sees it, and reported to the sender's raft as etcd's snapshot sender does.
 */
import type { Clock } from '../../../src/pkg/clock.js';
import { MessageType, type Message, type NodeId } from '../../../src/raft/types.js';
import { LinkStats, type MemberTransport, type PeerTransportOptions } from '../../../src/transport/index.js';
import type { Rng } from '../rng.js';

export interface NetFaults {
  dropRate: number;
  dupRate: number;
  maxDelayMs: number;
}

export class SimNet {
  private readonly ends = new Map<NodeId, SimTransport>();
  /** node -> partition group (absent: group 0). */
  private group = new Map<NodeId, number>();
  delivered = 0;
  dropped = 0;
  snapshots = 0;

  constructor(
    private readonly rng: Rng,
    private readonly clock: Clock,
    public faults: NetFaults,
  ) {}

  attach(t: SimTransport): void {
    this.ends.set(t.id, t);
  }

  detach(t: SimTransport): void {
    if (this.ends.get(t.id) === t) this.ends.delete(t.id);
  }

  partition(groups: NodeId[][]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i + 1)));
  }

  heal(): void {
    this.group = new Map();
  }

  private linked(a: NodeId, b: NodeId): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  /** Messages of one Ready to one peer travel together (one stream write), each dropped or duplicated alone. */
  send(from: SimTransport, to: NodeId, ms: Message[]): void {
    const out: Message[] = [];
    for (const m of ms) {
      if (m.type === MessageType.MsgSnap) {
        this.sendSnapshot(from, m);
        continue;
      }
      if (this.rng.chance(this.faults.dropRate)) this.dropped++;
      else out.push(m);
      if (this.rng.chance(this.faults.dupRate)) out.push(m);
    }
    if (out.length === 0) return;
    if (!this.linked(from.id, to)) {
      this.dropped += out.length;
      return;
    }
    // delays in 5 ms steps: messages due at one instant are handled together (one settle)
    this.clock.setTimeout(() => this.deliver(from.id, to, out), 5 * this.rng.int(1, Math.max(1, Math.floor(this.faults.maxDelayMs / 5))));
  }

  private deliver(from: NodeId, toId: NodeId, ms: Message[]): void {
    const to = this.ends.get(toId);
    if (!to || !this.linked(from, toId)) {
      this.dropped += ms.length;
      return;
    }
    this.delivered += ms.length;
    for (const m of ms) to.receive(m);
  }

  private sendSnapshot(from: SimTransport, m: Message): void {
    const s = from.opts.snapshotDb ? from.opts.snapshotDb(m) : { message: m, db: [] as Uint8Array[] };
    const lost = this.rng.chance(this.faults.dropRate) || !this.linked(from.id, m.to);
    const delay = 5 * this.rng.int(1, Math.max(1, Math.floor(this.faults.maxDelayMs / 5))) * 3;
    void (async () => {
      const chunks: Uint8Array[] = [];
      for await (const c of s.db) chunks.push(Uint8Array.from(c));
      this.clock.setTimeout(() => void this.deliverSnapshot(from, s.message, chunks, lost), delay);
    })().catch(() => from.reportSnapshot(m.to, true));
  }

  private async deliverSnapshot(from: SimTransport, m: Message, db: Uint8Array[], lost: boolean): Promise<void> {
    const to = this.ends.get(m.to);
    if (lost || !to || !this.linked(from.id, m.to)) {
      this.dropped++;
      from.reportSnapshot(m.to, true);
      return;
    }
    try {
      await to.opts.receiveSnapshot?.(m, (async function* () {
        yield* db;
      })());
      to.receive(m);
      this.snapshots++;
      from.reportSnapshot(m.to, false);
    } catch {
      from.reportSnapshot(m.to, true);
    }
  }
}

export class SimTransport implements MemberTransport {
  readonly stats = new LinkStats();
  readonly id: NodeId;
  private readonly peers = new Set<NodeId>();
  private alive = true;

  constructor(
    private readonly net: SimNet,
    readonly opts: PeerTransportOptions,
  ) {
    this.id = opts.local.id;
    net.attach(this);
  }

  send(messages: Message[]): void {
    if (!this.alive || messages.length === 0) return;
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (!this.peers.has(m.to)) continue;
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [to, list] of byPeer) this.net.send(this, to, list);
  }

  receive(m: Message): void {
    if (!this.alive) return;
    try {
      this.opts.receiver.process(m);
    } catch {
      // a removed member's message (RemovedMemberError), or a member stopping
    }
  }

  reportSnapshot(to: NodeId, failed: boolean): void {
    if (this.alive) this.opts.receiver.reportSnapshot(to, failed);
  }

  addPeer(id: NodeId): void {
    this.peers.add(id);
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }

  updatePeer(): void {}

  activeSince(id: NodeId): number {
    return this.peers.has(id) ? 1 : 0;
  }

  postRaw(): Promise<{ status: number; body: Buffer }> {
    return Promise.reject(new Error('no peer HTTP in the simulation'));
  }

  handle(): boolean {
    return false;
  }

  /** The member crashed or stopped: nothing more goes out or comes in. */
  kill(): void {
    this.alive = false;
    this.net.detach(this);
  }

  async close(): Promise<void> {
    this.kill();
  }
}
