// Pending ReadIndex requests on the leader, confirmed when a quorum acks the heartbeat that carried them.
import type { Message, NodeId } from './types.js';
import { ctxKey } from './util.js';

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Map<NodeId, boolean>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** m.entries[0].data is the request context; index is the commit index when it arrived. */
  addRequest(index: number, m: Message): void {
    const key = ctxKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Map() });
    this.queue.push(key);
  }

  recvAck(id: NodeId, context: Uint8Array | undefined): Map<NodeId, boolean> | undefined {
    const rs = this.pending.get(ctxKey(context));
    if (!rs) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeue every request up to and including the one m acknowledges. */
  advance(m: Message): ReadIndexStatus[] {
    const key = ctxKey(m.context);
    const pos = this.queue.indexOf(key);
    if (pos < 0) return [];
    const done = this.queue.slice(0, pos + 1);
    this.queue = this.queue.slice(pos + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs) out.push(rs);
      this.pending.delete(k);
    }
    return out;
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.entries[0]!.data;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
