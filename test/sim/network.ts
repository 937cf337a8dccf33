// The simulated network: every message gets a random delay (so messages reorder), and may be dropped,
// duplicated, or cut by a partition. Delivery is ordered by (time, sequence): fully deterministic.
import { type Message, MessageType, type NodeId } from '../../src/raft/index.js';
import type { Rng } from './rng.js';

export interface NetworkFaults {
  dropRate: number;
  dupRate: number;
  maxDelayTicks: number;
}

interface InFlight {
  at: number;
  seq: number;
  m: Message;
}

/** Named limit: messages held in flight at once (beyond it new messages are dropped, as a full queue). */
export const maxInFlightMessages = 100_000;

export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  /** node -> partition group; nodes in different groups cannot talk. */
  private group = new Map<NodeId, number>();
  faults: NetworkFaults;
  dropped = 0;
  delivered = 0;
  /** Called for a message cut by a partition while in flight (the transport notices a broken stream). */
  onLost: (m: Message) => void = () => {};

  constructor(private readonly rng: Rng, faults: NetworkFaults) {
    this.faults = faults;
  }

  partition(groups: NodeId[][]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i)));
  }

  heal(): void {
    this.group = new Map();
  }

  connected(a: NodeId, b: NodeId): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  partitioned(): boolean {
    return this.group.size > 0;
  }

  send(now: number, m: Message): boolean {
    if (!this.connected(m.from, m.to) || this.rng.chance(this.faults.dropRate) || this.queue.length >= maxInFlightMessages) {
      this.dropped++;
      return false;
    }
    this.enqueue(now, m);
    if (m.type !== MessageType.MsgSnap && this.rng.chance(this.faults.dupRate)) this.enqueue(now, m);
    return true;
  }

  private enqueue(now: number, m: Message): void {
    const at = now + this.rng.int(0, this.faults.maxDelayTicks);
    this.queue.push({ at, seq: this.seq++, m: { ...m } });
  }

  /** Messages due at or before `now`, in delivery order; partitions are checked again on delivery. */
  due(now: number): Message[] {
    const ready: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const f of this.queue) (f.at <= now ? ready : rest).push(f);
    this.queue = rest;
    ready.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const out: Message[] = [];
    for (const f of ready) {
      if (this.connected(f.m.from, f.m.to)) {
        out.push(f.m);
        this.delivered++;
      } else {
        this.dropped++;
        this.onLost(f.m);
      }
    }
    return out;
  }

  pending(): number {
    return this.queue.length;
  }
}
