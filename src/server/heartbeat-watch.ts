// etcd's leader heartbeat check (etcdserver/raft.go, its timeoutDetector): a heartbeat sent to a peer
// more than two heartbeat intervals after the previous one means the leader is overloaded (likely a
// slow disk); etcd warns and counts etcd_server_heartbeat_send_failures_total.
import type { Logger } from '../pkg/logger.js';
import { MessageType, type Message } from '../raft/types.js';

export class HeartbeatWatch {
  private readonly lastSentMs = new Map<bigint, number>();
  failures = 0;

  constructor(
    private readonly heartbeatMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** This member just became leader: intervals start again. */
  reset(): void {
    this.lastSentMs.clear();
  }

  /** Called with each batch of outgoing messages. */
  observe(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.type !== MessageType.MsgHeartbeat) continue;
      const now = this.now();
      const last = this.lastSentMs.get(m.to);
      this.lastSentMs.set(m.to, now);
      if (last === undefined || now - last <= 2 * this.heartbeatMs) continue;
      this.failures++;
      this.logger.warn({
        to: m.to.toString(16), heartbeatIntervalMs: this.heartbeatMs, expectedDurationMs: 2 * this.heartbeatMs,
        exceededDurationMs: now - last - 2 * this.heartbeatMs,
      }, 'leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk');
    }
  }
}
