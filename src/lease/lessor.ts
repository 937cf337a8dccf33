// The lessor: the applied lease state (grant, revoke, attach/detach, checkpoint: deterministic, the
// same on every member) plus the leader-only view of time (expiries, renew, expiry detection,
// checkpoint scheduling), which reads the caller's clock through `nowMs` arguments only.
import { LeaseError } from './errors.js';
import { ExpiryQueue } from './expiry-queue.js';
import { type LeaseStore, decodeLeaseRecord, encodeLeaseRecord } from './record.js';

/** Largest TTL a grant may ask for, in seconds (etcd's MaxLeaseTTL). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;
/** etcd's leaseRevokeRate: expired leases handed out per second at most. */
export const DEFAULT_MAX_REVOKE_PER_SECOND = 1000;
/** An expired lease handed out but still present this long later is handed out again (etcd: 3 s). */
export const DEFAULT_EXPIRED_RETRY_MS = 3000;
/** etcd's default checkpoint interval when --experimental-enable-lease-checkpoint is on. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;
/** Checkpoints per LeaseCheckpoint proposal at most (etcd's maxLeaseCheckpointBatchSize). */
export const DEFAULT_MAX_CHECKPOINT_BATCH = 1000;
/** What timeToLive reports for a lease with no expiry (etcd: MaxInt64 nanoseconds in whole seconds). */
export const FOREVER_TTL_SECONDS = 9_223_372_036;

/** etcd's minimum lease TTL: ceil(⌊3 × electionTicks / 2⌋ × tickMs / 1000) seconds (2 by default). */
export function minLeaseTTLSeconds(electionTicks: number, tickMs: number): number {
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * tickMs) / 1000);
}

export interface LessorOptions {
  store: LeaseStore;
  /** Grants below this are raised to it (default 2 s, see minLeaseTTLSeconds). */
  minTTLSeconds?: number;
  maxRevokePerSecond?: number;
  expiredRetryMs?: number;
  /** Set to enable checkpoints (etcd --experimental-enable-lease-checkpoint; interval 5 min). */
  checkpointIntervalMs?: number;
  maxCheckpointBatch?: number;
}

/** A read-only view of one lease. expiryMs is Infinity when the lease cannot expire here (follower). */
export interface LeaseView {
  readonly id: bigint;
  readonly ttl: number;
  readonly remainingTTL: number;
  readonly expiryMs: number;
}

export interface TimeToLive {
  id: bigint;
  /** Whole seconds left, truncated toward zero as etcd does (0 or negative once expired). */
  ttl: number;
  grantedTTL: number;
  keys: Uint8Array[];
}

export interface RenewResult {
  ttl: number;
  /** Propose LeaseCheckpoint{id, remainingTTL: 0}: the lease carried a checkpointed TTL (etcd 3.4). */
  clearCheckpoint: boolean;
}

export interface LeaseCheckpoint {
  id: bigint;
  remainingTTL: number;
}

interface Lease {
  readonly id: bigint;
  readonly ttl: number;
  remainingTTL: number;
  expiryMs: number;
  readonly keys: Set<string>; // latin1: one char per byte, so string order is byte order
}

const keyString = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');
const keyBytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const sortedKeys = (l: Lease): Uint8Array[] => [...l.keys].sort().map(keyBytes);
const effectiveTTL = (l: Lease): number => (l.remainingTTL > 0 ? l.remainingTTL : l.ttl);
const view = (l: Lease): LeaseView => ({ id: l.id, ttl: l.ttl, remainingTTL: l.remainingTTL, expiryMs: l.expiryMs });

export class Lessor {
  readonly minTTLSeconds: number;
  readonly maxRevokePerSecond: number;
  readonly expiredRetryMs: number;
  readonly checkpointIntervalMs: number | undefined;
  readonly maxCheckpointBatch: number;
  private readonly store: LeaseStore;
  private readonly byId = new Map<bigint, Lease>();
  private readonly leaseOfKey = new Map<string, bigint>();
  private readonly expiries = new ExpiryQueue();
  private readonly checkpoints = new ExpiryQueue();
  private primary = false;
  private revokeTokens: number;
  private tokensAtMs: number | undefined;
  /** Leases granted, revoked and renewed (by this member as leader) so far, for /metrics. */
  readonly counts = { granted: 0, revoked: 0, renewed: 0 };
  /** Called with each granted lease's TTL in seconds (etcd's lease TTL histogram). */
  onGrant: ((ttlSeconds: number) => void) | undefined;

  constructor(opts: LessorOptions) {
    this.store = opts.store;
    this.minTTLSeconds = opts.minTTLSeconds ?? 2;
    this.maxRevokePerSecond = opts.maxRevokePerSecond ?? DEFAULT_MAX_REVOKE_PER_SECOND;
    this.expiredRetryMs = opts.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS;
    this.checkpointIntervalMs = opts.checkpointIntervalMs;
    this.maxCheckpointBatch = opts.maxCheckpointBatch ?? DEFAULT_MAX_CHECKPOINT_BATCH;
    this.revokeTokens = this.revokeBurst;
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.byId.size;
  }

  /** At most this many ids per findExpired burst: half a second's worth, as etcd's 500 ms loop. */
  get revokeBurst(): number {
    return Math.max(1, Math.floor(this.maxRevokePerSecond / 2));
  }

  // ---- applied state (every member, in log order) ----

  /** Apply LeaseGrant. id 0 is refused (the server picks ids before proposing: pickLeaseId). */
  grant(id: bigint, ttlSeconds: number, nowMs: number): LeaseView | LeaseError {
    if (!Number.isInteger(ttlSeconds)) throw new Error(`lease: TTL ${ttlSeconds} is not an integer`);
    if (id === 0n) return LeaseError.notFound;
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) return LeaseError.ttlTooLarge;
    if (this.byId.has(id)) return LeaseError.exists;
    const ttl = Math.max(ttlSeconds, this.minTTLSeconds);
    const l: Lease = { id, ttl, remainingTTL: 0, expiryMs: Infinity, keys: new Set() };
    this.byId.set(id, l);
    if (this.primary) {
      this.setExpiry(l, nowMs + ttl * 1000);
      this.scheduleCheckpoint(l, nowMs);
    }
    this.persist(l);
    this.counts.granted++;
    this.onGrant?.(ttl);
    return view(l);
  }

  /**
   * Apply LeaseRevoke: forget the lease and return its keys in byte order. The server deletes them
   * in the same MVCC write transaction (one revision for all of them; none if there are no keys).
   */
  revoke(id: bigint): Uint8Array[] | LeaseError {
    const l = this.byId.get(id);
    if (!l) return LeaseError.notFound;
    const keys = sortedKeys(l);
    for (const k of l.keys) if (this.leaseOfKey.get(k) === id) this.leaseOfKey.delete(k);
    this.byId.delete(id);
    this.expiries.delete(id);
    this.checkpoints.delete(id);
    this.store.delete(id);
    this.counts.revoked++;
    return keys;
  }

  /** Attach keys (MVCC put with a lease, or MVCC restore). A key moves from any other lease. */
  attach(id: bigint, keys: Iterable<Uint8Array>): LeaseError | undefined {
    const l = this.byId.get(id);
    if (!l) return LeaseError.notFound;
    for (const key of keys) {
      const k = keyString(key);
      const old = this.leaseOfKey.get(k);
      if (old !== undefined && old !== id) this.byId.get(old)?.keys.delete(k);
      l.keys.add(k);
      this.leaseOfKey.set(k, id);
    }
    return undefined;
  }

  /** Detach keys (MVCC delete, or put that changes/drops the lease). */
  detach(id: bigint, keys: Iterable<Uint8Array>): LeaseError | undefined {
    const l = this.byId.get(id);
    if (!l) return LeaseError.notFound;
    for (const key of keys) {
      const k = keyString(key);
      l.keys.delete(k);
      if (this.leaseOfKey.get(k) === id) this.leaseOfKey.delete(k);
    }
    return undefined;
  }

  /** Apply one checkpoint of LeaseCheckpointRequest. Unknown ids are ignored, as etcd. */
  checkpoint(id: bigint, remainingTTL: number, nowMs: number): void {
    const l = this.byId.get(id);
    if (!l) return;
    l.remainingTTL = remainingTTL;
    this.persist(l);
    if (this.primary) this.scheduleCheckpoint(l, nowMs);
  }

  /** Rebuild from the store (start-up, snapshot install). Leases come back without expiry until promote;
   *  the server then re-attaches keys from MVCC. */
  recover(): void {
    this.byId.clear();
    this.leaseOfKey.clear();
    this.expiries.clear();
    this.checkpoints.clear();
    for (const [id, bytes] of this.store.loadAll()) {
      const r = decodeLeaseRecord(bytes);
      if (r.id !== id) throw new Error(`lease: stored record ${r.id} under key ${id}`);
      this.byId.set(id, { id, ttl: r.ttl, remainingTTL: r.remainingTTL, expiryMs: Infinity, keys: new Set() });
    }
  }

  // ---- reads ----

  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  lookup(id: bigint): LeaseView | undefined {
    const l = this.byId.get(id);
    return l && view(l);
  }

  /** The lease a key is attached to, 0n for none. */
  getLease(key: Uint8Array): bigint {
    return this.leaseOfKey.get(keyString(key)) ?? 0n;
  }

  /** All leases, soonest expiry first (ties and followers' never-expiring leases by id). */
  leases(): LeaseView[] {
    return this.byExpiry().map(view);
  }

  /** LeaseTimeToLive as the leader answers it (the server forwards from followers, as etcd). */
  timeToLive(id: bigint, nowMs: number): TimeToLive | LeaseError {
    const l = this.byId.get(id);
    if (!l) return LeaseError.notFound;
    const ttl = l.expiryMs === Infinity ? FOREVER_TTL_SECONDS : Math.trunc((l.expiryMs - nowMs) / 1000) || 0;
    return { id, ttl, grantedTTL: l.ttl, keys: sortedKeys(l) };
  }

  // ---- leader only: time ----

  /**
   * LeaseKeepAlive on the leader: the lease now expires at now + TTL. The lease's checkpointed TTL
   * is not used; if it has one, the server proposes a checkpoint clearing it (clearCheckpoint).
   */
  renew(id: bigint, nowMs: number): RenewResult | LeaseError {
    if (!this.primary) return LeaseError.notPrimary;
    const l = this.byId.get(id);
    if (!l) return LeaseError.notFound;
    if (l.expiryMs <= nowMs) return LeaseError.expired;
    this.setExpiry(l, nowMs + l.ttl * 1000);
    this.counts.renewed++;
    return { ttl: l.ttl, clearCheckpoint: this.checkpointIntervalMs !== undefined && l.remainingTTL > 0 };
  }

  /**
   * This member became leader and has applied every entry of earlier terms. Every lease expires at
   * now + extend + (checkpointed or granted TTL); with ≥ maxRevokePerSecond leases the expiries are
   * then spread so no second holds more than 3/4 of the revoke rate (etcd 3.4's promote).
   */
  promote(nowMs: number, extendMs: number): void {
    this.primary = true;
    for (const l of this.byId.values()) l.expiryMs = nowMs + extendMs + effectiveTTL(l) * 1000;
    if (this.byId.size >= this.maxRevokePerSecond) this.spreadExpiries(nowMs, extendMs);
    this.expiries.clear();
    this.checkpoints.clear();
    for (const l of this.byId.values()) {
      this.expiries.set(l.id, l.expiryMs);
      this.scheduleCheckpoint(l, nowMs);
    }
  }

  /** This member stopped leading: nothing expires here any more. */
  demote(): void {
    this.primary = false;
    for (const l of this.byId.values()) l.expiryMs = Infinity;
    this.expiries.clear();
    this.checkpoints.clear();
  }

  /**
   * Ids of expired leases for the server to revoke through raft, soonest first, at most `limit` and
   * at most what the revoke rate allows since the last call (a token bucket of maxRevokePerSecond per
   * second, holding revokeBurst at most). Each id handed out is handed out again expiredRetryMs later
   * if its revoke has not applied by then (a lost proposal, a busy server).
   */
  findExpired(nowMs: number, limit = Infinity): bigint[] {
    if (!this.primary) return [];
    const budget = Math.min(limit, Math.floor(this.refillRevokeTokens(nowMs)));
    const out: bigint[] = [];
    while (out.length < budget) {
      const next = this.expiries.peek();
      if (!next || next.atMs > nowMs) break;
      this.expiries.set(next.id, nowMs + this.expiredRetryMs);
      out.push(next.id);
    }
    this.revokeTokens -= out.length;
    return out;
  }

  /** Checkpoints now due (leader, checkpointing on): propose them as one LeaseCheckpointRequest;
   *  call again while a full batch comes back. */
  findDueCheckpoints(nowMs: number, limit = this.maxCheckpointBatch): LeaseCheckpoint[] {
    if (!this.primary || this.checkpointIntervalMs === undefined) return [];
    const out: LeaseCheckpoint[] = [];
    while (out.length < limit) {
      const next = this.checkpoints.peek();
      if (!next || next.atMs > nowMs) break;
      this.checkpoints.delete(next.id);
      const l = this.byId.get(next.id);
      if (!l) throw new Error(`lease: checkpoint queued for unknown lease ${next.id}`);
      const remainingTTL = Math.ceil((l.expiryMs - nowMs) / 1000);
      if (remainingTTL >= l.ttl) continue;
      out.push({ id: l.id, remainingTTL });
    }
    return out;
  }

  // ---- internals ----

  private byExpiry(): Lease[] {
    return [...this.byId.values()].sort((a, b) =>
      a.expiryMs !== b.expiryMs ? (a.expiryMs < b.expiryMs ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  private setExpiry(l: Lease, atMs: number): void {
    l.expiryMs = atMs;
    this.expiries.set(l.id, atMs);
  }

  private scheduleCheckpoint(l: Lease, nowMs: number): void {
    const interval = this.checkpointIntervalMs;
    if (interval === undefined) return;
    if (effectiveTTL(l) > Math.trunc(interval / 1000)) this.checkpoints.set(l.id, nowMs + interval);
  }

  private persist(l: Lease): void {
    this.store.put(l.id, encodeLeaseRecord({ id: l.id, ttl: l.ttl, remainingTTL: l.remainingTTL }));
  }

  private refillRevokeTokens(nowMs: number): number {
    if (this.tokensAtMs !== undefined && nowMs > this.tokensAtMs) {
      const refill = ((nowMs - this.tokensAtMs) * this.maxRevokePerSecond) / 1000;
      this.revokeTokens = Math.min(this.revokeBurst, this.revokeTokens + refill);
    }
    if (this.tokensAtMs === undefined || nowMs > this.tokensAtMs) this.tokensAtMs = nowMs;
    return this.revokeTokens;
  }

  /**
   * etcd 3.4's pile-up avoidance after promote (sets expiryMs only; promote queues them), in ms: walk leases by expiry in one-second windows;
   * once a window holds more than 3/4 × rate leases, each further lease is pushed back by
   * 1 s × (count / target) minus how far it already lies past the window's start.
   */
  private spreadExpiries(nowMs: number, extendMs: number): void {
    const target = Math.floor((3 * this.maxRevokePerSecond) / 4);
    const ordered = this.byExpiry();
    let baseMs = ordered[0]!.expiryMs - nowMs;
    let nextMs = baseMs + 1000;
    let count = 0;
    for (const l of ordered) {
      const remainingMs = l.expiryMs - nowMs;
      if (remainingMs > nextMs) {
        baseMs = remainingMs;
        nextMs = baseMs + 1000;
        count = 1;
        continue;
      }
      count++;
      if (count <= target) continue;
      const delayMs = Math.trunc((1000 * count) / target - (remainingMs - baseMs));
      nextMs = baseMs + delayMs;
      l.expiryMs = nowMs + delayMs + extendMs + effectiveTTL(l) * 1000;
    }
  }
}
