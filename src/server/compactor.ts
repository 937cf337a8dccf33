/*
 * Auto compaction, as etcd 3.4's --auto-compaction-mode/--auto-compaction-retention (leader only):
 *  - periodic (retention R, a duration): the current revision is sampled every min(R, 1 h) / 10;
 *    once a sample is R old, the key space is compacted to it (so at least R of history is kept);
 *  - revision (retention N): every 5 minutes, compact to (current revision - N).
 * A compaction is an ordinary Compaction request proposed through raft.
 */
import type { Clock, TimerHandle } from '../pkg/clock.js';
import type { Logger } from '../pkg/logger.js';
import { systemClock } from '../platform/clock.js';

export const REVISION_MODE_INTERVAL_MS = 5 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

export interface CompactorDeps {
  mode: 'periodic' | 'revision';
  /** periodic: ms; revision: revisions kept; 0 = off. */
  retention: number;
  isLeader(): boolean;
  rev(): number;
  compactRevision(): number;
  compact(rev: number): Promise<void>;
  logger: Logger;
  /** Default the system clock. */
  clock?: Clock;
}

export class Compactor {
  private timer: TimerHandle | undefined;
  private samples: number[] = [];

  constructor(private readonly d: CompactorDeps) {}

  /** The tick interval of this mode, or undefined when auto compaction is off. */
  intervalMs(): number | undefined {
    if (this.d.retention <= 0) return undefined;
    if (this.d.mode === 'revision') return REVISION_MODE_INTERVAL_MS;
    return Math.max(1, Math.floor(Math.min(this.d.retention, HOUR_MS) / 10));
  }

  start(): void {
    const every = this.intervalMs();
    if (every === undefined) return;
    this.timer = (this.d.clock ?? systemClock).setInterval(() => this.tick(), every, true);
  }

  stop(): void {
    (this.d.clock ?? systemClock).clearInterval(this.timer);
  }

  /** One step; public so tests drive it without timers. */
  tick(): void {
    if (!this.d.isLeader()) {
      this.samples = [];
      return;
    }
    const target = this.d.mode === 'revision' ? this.d.rev() - this.d.retention : this.periodicTarget();
    if (target === undefined || target <= this.d.compactRevision() || target <= 0) return;
    this.d.logger.info({ mode: this.d.mode, revision: target }, 'starting auto compaction');
    this.d.compact(target).catch((err: unknown) => this.d.logger.warn({ err: String(err), revision: target }, 'auto compaction failed'));
  }

  private periodicTarget(): number | undefined {
    this.samples.push(this.d.rev());
    const keep = Math.round(this.d.retention / this.intervalMs()!);
    if (this.samples.length <= keep) return undefined;
    return this.samples.shift();
  }
}
