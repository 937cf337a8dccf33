/*
 * Leadership as the member's callers see it: waiting for a leader, handing leadership to a voter
 * (etcd's MoveLeader, and the graceful stop's TransferLeadership), and the lessor questions a
 * follower forwards to the leader. Functions over the few things of the member they need.
 */
import { LeaseError, isLeaseError, type Lessor } from '../lease/index.js';
import { idToHex, type RaftCluster } from '../membership/index.js';
import { sleep, type Clock } from '../pkg/clock.js';
import type { Logger } from '../pkg/logger.js';
import { None } from '../raft/types.js';
import { EtcdError } from './errors.js';

export interface LeadershipDeps {
  readonly memberId: bigint;
  readonly cluster: RaftCluster;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly clock: Clock;
  lead(): bigint;
  term(): number;
  stopping(): boolean;
  transferLeader(transferee: bigint): void;
  /** When the link to a peer came up (ms; 0 = down). */
  activeSince(id: bigint): number;
}

/** The leader once one is known; rejects with etcd's request timeout after the deadline (ms). */
export async function waitLeader(d: LeadershipDeps, deadlineMs: number): Promise<bigint> {
  while (d.lead() === None) {
    if (d.stopping()) throw new EtcdError('Stopped');
    if (d.clock.now() >= deadlineMs) throw new EtcdError('Timeout');
    await sleep(d.clock, 50);
  }
  return d.lead();
}

/**
 * Hands leadership to a voter and waits until it leads (etcd's MoveLeader): BadLeaderTransferee for
 * a stranger or a learner, TimeoutLeaderTransfer when it has not happened in time.
 */
export async function moveLeader(d: LeadershipDeps, transferee: bigint, timeoutMs: number): Promise<void> {
  const m = d.cluster.member(transferee);
  if (!m || m.isLearner) throw new EtcdError('BadLeaderTransferee');
  const deadline = d.clock.now() + timeoutMs;
  d.logger.info({ from: idToHex(d.memberId), to: idToHex(transferee), term: d.term() }, 'leadership transfer starting');
  d.transferLeader(transferee);
  while (d.lead() !== transferee) {
    if (d.clock.now() >= deadline) throw new EtcdError('TimeoutLeaderTransfer');
    await sleep(d.clock, d.heartbeatIntervalMs);
  }
  d.logger.info({ to: idToHex(transferee), tookMs: timeoutMs - (deadline - d.clock.now()) }, 'leadership transfer finished');
}

/**
 * On a graceful stop the leader hands over to the voter its link has been up with longest, so the
 * cluster need not wait out an election timeout (etcd's TransferLeadership).
 */
export async function transferLeadershipOnStop(d: LeadershipDeps, timeoutMs: number): Promise<void> {
  if (d.lead() !== d.memberId) return;
  const voters = d.cluster.members().filter((m) => m.id !== d.memberId && !m.isLearner);
  const since = (id: bigint): number => d.activeSince(id) || Number.POSITIVE_INFINITY;
  const target = voters.filter((m) => since(m.id) !== Number.POSITIVE_INFINITY).sort((a, b) => since(a.id) - since(b.id))[0];
  if (!target) return;
  try {
    await moveLeader(d, target.id, timeoutMs);
  } catch (err) {
    d.logger.warn({ err: String(err) }, 'leadership transfer failed');
  }
}

/** A keep-alive forwarded to us by a follower (we answer only as the primary lessor). */
export function leaseRenewAtLeader(lessor: Lessor, id: bigint, now: number): { ttl: number } | 'notFound' | 'notPrimary' {
  const r = lessor.renew(id, now);
  if (r === LeaseError.notPrimary) return 'notPrimary';
  if (isLeaseError(r)) return 'notFound';
  return { ttl: r.ttl };
}

/** A time-to-live question forwarded to us by a follower. */
export function leaseTimeToLiveAtLeader(
  lessor: Lessor, id: bigint, keys: boolean, now: number,
): { id: bigint; ttl: number; grantedTTL: number; keys: Uint8Array[] } | 'notFound' {
  const r = lessor.timeToLive(id, now);
  if (isLeaseError(r)) return 'notFound';
  return { id, ttl: r.ttl, grantedTTL: r.grantedTTL, keys: keys ? r.keys.map((k) => Uint8Array.from(k)) : [] };
}
