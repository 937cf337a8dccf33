/*
 * Housekeeping every 500 ms (etcd's): proposal deadlines, token expiry, size gauges, the member's
 * publication retry, and at the leader the v2 SYNC (TTL expiry at the leader's clock) and the
 * revocation of expired leases, both proposed through raft.
 */
import type { TokenProvider } from '../auth/index.js';
import type { Backend } from '../backend/index.js';
import type { Lessor } from '../lease/index.js';
import type { Clock, TimerHandle } from '../pkg/clock.js';
import type { EtcdMetrics } from '../pkg/metrics.js';
import type { V2Store } from '../v2store/index.js';
import type { ApplyOutcome } from './apply.js';
import { syncRequest, type InternalRaftRequest, type V2Request } from './internal-request.js';
import type { ServerCounts } from './metrics-wiring.js';
import type { Proposals } from './proposals.js';

/** How often leader housekeeping runs (lease expiry, proposal deadlines): etcd's 500 ms. */
export const HOUSEKEEPING_MS = 500;

export interface HousekeepingDeps {
  readonly metrics: EtcdMetrics;
  readonly proposals: Proposals<ApplyOutcome>;
  readonly tokens: TokenProvider;
  readonly backend: Backend;
  readonly v2: V2Store;
  readonly lessor: Lessor;
  readonly counts: ServerCounts;
  readonly clock: Clock;
  now(): number;
  hasLeader(): boolean;
  isLeader(): boolean;
  stopping(): boolean;
  publishOnce(): void;
  propose(req: Omit<InternalRaftRequest, 'header'>): Promise<ApplyOutcome>;
  proposeV2(req: V2Request): Promise<ApplyOutcome>;
}

export class Housekeeping {
  private timer: TimerHandle | undefined;
  private syncInFlight = false;

  constructor(private readonly d: HousekeepingDeps) {}

  start(): void {
    this.timer = this.d.clock.setInterval(() => this.run(), HOUSEKEEPING_MS, true);
  }

  stop(): void {
    this.d.clock.clearInterval(this.timer);
  }

  run(): void {
    const d = this.d;
    const now = d.now();
    d.metrics.proposalsFailed.inc(d.proposals.expire(now));
    // sampled here rather than counted per proposal (a promise and two updates per write)
    d.metrics.proposalsPending.set(d.proposals.waits.size);
    d.tokens.sweep(now);
    d.metrics.dbTotalSizeBytes.set(d.backend.size());
    d.metrics.dbTotalSizeInUseBytes.set(d.backend.sizeInUse());
    // etcd's publish retries until it succeeds (a proposal can time out: e.g. its entry came in a snapshot)
    if (d.hasLeader() && !d.stopping()) d.publishOnce();
    if (!d.isLeader()) return;
    if (d.v2.hasTtlKeys() && !this.syncInFlight) {
      this.syncInFlight = true;
      d.proposeV2(syncRequest(now))
        .catch(() => undefined)
        .finally(() => (this.syncInFlight = false));
    }
    for (const id of d.lessor.findExpired(now)) {
      d.propose({ lease_revoke: { ID: id.toString() } }).then(() => d.counts.leasesExpired++, () => undefined);
    }
  }
}
