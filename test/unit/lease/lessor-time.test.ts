// The leader-local half of the lessor: expiries, renew, expiry detection and its rate, promote and
// demote, time-to-live, checkpoint scheduling. The clock is always the test's `now`.
import { describe, expect, it } from 'vitest';
import { FOREVER_TTL_SECONDS, LeaseError, type TimeToLive } from '../../../src/lease/index.js';
import { b, newLessor } from './helpers.js';

const T0 = 5_000_000;

describe('expiry detection', () => {
  it('hands out expired leases soonest first, only once they are due', () => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    const grants: [bigint, number][] = [[1n, 30], [2n, 10], [3n, 20], [4n, 10], [5n, 2]];
    for (const [id, ttl] of grants) lessor.grant(id, ttl, T0);
    const steps: [number, bigint[]][] = [
      [T0 + 1999, []],
      [T0 + 2000, [5n]], // expired when now >= expiry
      [T0 + 10_000, [2n, 4n]], // same expiry: by id
      [T0 + 25_000, [3n]],
      [T0 + 29_999, []],
      [T0 + 30_000, [1n]],
    ];
    for (const [now, want] of steps) {
      expect(lessor.findExpired(now)).toEqual(want);
      for (const id of want) lessor.revoke(id);
    }
  });

  it('a follower finds nothing', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 2, T0);
    expect(lessor.findExpired(T0 + 1e9)).toEqual([]);
  });

  it('hands an unrevoked expired lease out again after the retry interval', () => {
    const { lessor } = newLessor({ expiredRetryMs: 3000 });
    lessor.promote(T0, 0);
    lessor.grant(1n, 2, T0);
    expect(lessor.findExpired(T0 + 2000)).toEqual([1n]);
    expect(lessor.findExpired(T0 + 2500)).toEqual([]); // revoke in flight
    expect(lessor.findExpired(T0 + 4999)).toEqual([]);
    expect(lessor.findExpired(T0 + 5000)).toEqual([1n]); // the proposal was lost: again
  });

  it('respects the caller limit', () => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    for (let i = 1n; i <= 5n; i++) lessor.grant(i, 2, T0);
    expect(lessor.findExpired(T0 + 2000, 2)).toEqual([1n, 2n]);
    expect(lessor.findExpired(T0 + 2000, 10)).toEqual([3n, 4n, 5n]);
  });
});

describe('revoke rate limit', () => {
  it.each([
    { rate: 1000, calls: [0, 0, 500, 700, 1700, 5000], want: [500, 0, 500, 200, 500, 500] },
    { rate: 10, calls: [0, 100, 400, 1000, 1000], want: [5, 1, 3, 5, 0] },
  ])('maxRevokePerSecond $rate', ({ rate, calls, want }) => {
    const { lessor } = newLessor({ maxRevokePerSecond: rate, expiredRetryMs: 1e9 });
    lessor.promote(T0, 0);
    for (let i = 1n; i <= 10_000n; i++) lessor.grant(i, 2, T0 - 2000); // all expired at T0
    expect(lessor.maxRevokePerSecond).toBe(rate);
    const got = calls.map((dt) => lessor.findExpired(T0 + dt).length);
    expect(got).toEqual(want);
  });

  it('over a long run, hands out at most the rate per second', () => {
    const { lessor } = newLessor({ expiredRetryMs: 1e9 });
    lessor.promote(T0, 0);
    for (let i = 1n; i <= 6000n; i++) lessor.grant(i, 2, T0 - 2000);
    let total = 0;
    for (let t = 0; t <= 4000; t += 100) total += lessor.findExpired(T0 + t).length;
    expect(total).toBe(500 + 4000); // one burst, then 1000/s
  });
});

describe('renew', () => {
  it.each([
    { name: 'moves expiry to now + TTL', primary: true, grantTtl: 10, at: 4000, want: { ttl: 10, clearCheckpoint: false }, expiry: 14_000 },
    { name: 'returns the raised TTL', primary: true, grantTtl: 1, at: 1000, want: { ttl: 2, clearCheckpoint: false }, expiry: 3000 },
    { name: 'refused on a follower', primary: false, grantTtl: 10, at: 0, want: LeaseError.notPrimary, expiry: Infinity },
    { name: 'expired, revoke pending', primary: true, grantTtl: 10, at: 10_000, want: LeaseError.expired, expiry: 10_000 },
  ])('$name', ({ primary, grantTtl, at, want, expiry }) => {
    const { lessor } = newLessor();
    if (primary) lessor.promote(T0, 0);
    lessor.grant(1n, grantTtl, T0);
    expect(lessor.renew(1n, T0 + at)).toEqual(want);
    expect(lessor.lookup(1n)!.expiryMs).toBe(T0 + expiry);
  });

  it('unknown lease is not found', () => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    expect(lessor.renew(3n, T0)).toBe(LeaseError.notFound);
  });

  it('a renewed lease is not found expired at its old time', () => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    lessor.grant(1n, 10, T0);
    lessor.renew(1n, T0 + 9000);
    expect(lessor.findExpired(T0 + 10_000)).toEqual([]);
    expect(lessor.findExpired(T0 + 19_000)).toEqual([1n]);
  });

  it('uses the full TTL and asks to clear a checkpointed TTL (checkpointing on)', () => {
    const { lessor } = newLessor({ checkpointIntervalMs: 60_000 });
    lessor.promote(T0, 0);
    lessor.grant(1n, 600, T0);
    lessor.checkpoint(1n, 100, T0);
    expect(lessor.renew(1n, T0)).toEqual({ ttl: 600, clearCheckpoint: true });
    expect(lessor.lookup(1n)!.expiryMs).toBe(T0 + 600_000);
    lessor.checkpoint(1n, 0, T0); // the server's clearing proposal applied
    expect(lessor.renew(1n, T0)).toEqual({ ttl: 600, clearCheckpoint: false });
  });
});

describe('timeToLive', () => {
  it.each([
    { at: 0, ttl: 3 },
    { at: 1, ttl: 2 }, // 2.999 s left → 2 (etcd truncates)
    { at: 1000, ttl: 2 },
    { at: 1001, ttl: 1 },
    { at: 2999, ttl: 0 },
    { at: 3000, ttl: 0 },
    { at: 3500, ttl: 0 }, // expired, not yet revoked: -0.5 → 0 (observed on etcd 3.4.23)
    { at: 4000, ttl: -1 },
  ])('3 s lease, $at ms later → TTL $ttl', ({ at, ttl }) => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    lessor.grant(7n, 3, T0);
    expect(lessor.timeToLive(7n, T0 + at)).toEqual({ id: 7n, ttl, grantedTTL: 3, keys: [] });
  });

  it('keys sorted, unknown lease not found, follower sees forever', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 30, T0);
    lessor.attach(1n, [b('y'), b('x')]);
    const r = lessor.timeToLive(1n, T0) as TimeToLive;
    expect(r.ttl).toBe(FOREVER_TTL_SECONDS);
    expect(r.keys.map((k) => Buffer.from(k).toString())).toEqual(['x', 'y']);
    expect(lessor.timeToLive(2n, T0)).toBe(LeaseError.notFound);
  });
});

describe('promote / demote', () => {
  it('promote: now + extend + TTL for every lease; demote: endless, nothing found', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 10, T0);
    lessor.grant(2n, 5, T0);
    expect(lessor.isPrimary).toBe(false);
    lessor.promote(T0 + 100, 1000);
    expect(lessor.isPrimary).toBe(true);
    expect(lessor.leases().map((l) => [l.id, l.expiryMs])).toEqual([[2n, T0 + 6100], [1n, T0 + 11_100]]);
    lessor.demote();
    expect(lessor.isPrimary).toBe(false);
    expect(lessor.leases().every((l) => l.expiryMs === Infinity)).toBe(true);
    expect(lessor.findExpired(T0 + 1e9)).toEqual([]);
    expect(lessor.renew(1n, T0)).toBe(LeaseError.notPrimary);
  });

  it('a lease that was due under the old leader survives until the new leader\'s expiry', () => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    lessor.grant(1n, 2, T0);
    lessor.demote();
    lessor.promote(T0 + 10_000, 1000);
    expect(lessor.findExpired(T0 + 12_999)).toEqual([]);
    expect(lessor.findExpired(T0 + 13_000)).toEqual([1n]);
  });

  it('below the revoke rate, no spreading', () => {
    const { lessor } = newLessor({ maxRevokePerSecond: 100 });
    for (let i = 1n; i <= 99n; i++) lessor.grant(i, 10, T0);
    lessor.promote(T0, 0);
    expect(new Set(lessor.leases().map((l) => l.expiryMs))).toEqual(new Set([T0 + 10_000]));
  });

  it('spreads a pile-up so no second holds more than 3/4 of the rate', () => {
    const rate = 100;
    const { lessor } = newLessor({ maxRevokePerSecond: rate });
    for (let i = 1n; i <= 300n; i++) lessor.grant(i, 10, T0); // all due at the same instant
    lessor.promote(T0, 500);
    const perSecond = new Map<number, number>();
    for (const l of lessor.leases()) {
      expect(l.expiryMs).toBeGreaterThanOrEqual(T0 + 10_500);
      const s = Math.floor((l.expiryMs - (T0 + 10_500)) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual((3 * rate) / 4);
    // lease n (n > 75) is pushed back ⌊1000·n/75⌋ ms: 1..75 stay, 76..149 → +1013..1986 ms, …, 300 → +4000
    expect([...perSecond.entries()].sort((x, y) => x[0] - y[0])).toEqual([[0, 75], [1, 74], [2, 75], [3, 75], [4, 1]]);
    const ids = lessor.leases().map((l) => l.id); // the earliest-id leases keep the base time
    expect(ids.slice(0, 75)).toEqual(Array.from({ length: 75 }, (_, i) => BigInt(i + 1)));
  });
});

describe('checkpoint scheduling (leader, checkpointing on)', () => {
  it('proposes the remaining TTL of long leases once per interval', () => {
    const { lessor } = newLessor({ checkpointIntervalMs: 60_000 });
    lessor.promote(T0, 0);
    lessor.grant(1n, 600, T0); // longer than the interval: scheduled
    lessor.grant(2n, 30, T0); // shorter: never checkpointed
    expect(lessor.findDueCheckpoints(T0 + 59_999)).toEqual([]);
    expect(lessor.findDueCheckpoints(T0 + 60_000)).toEqual([{ id: 1n, remainingTTL: 540 }]);
    expect(lessor.findDueCheckpoints(T0 + 120_000)).toEqual([]); // not rescheduled until applied
    lessor.checkpoint(1n, 540, T0 + 60_500); // applied: next one an interval later
    expect(lessor.findDueCheckpoints(T0 + 120_499)).toEqual([]);
    expect(lessor.findDueCheckpoints(T0 + 120_500)).toEqual([{ id: 1n, remainingTTL: 480 }]);
  });

  it('off by default, off on followers, batches bounded', () => {
    const off = newLessor().lessor;
    off.promote(T0, 0);
    off.grant(1n, 600, T0);
    expect(off.findDueCheckpoints(T0 + 1e9)).toEqual([]);

    const { lessor } = newLessor({ checkpointIntervalMs: 60_000, maxCheckpointBatch: 2 });
    lessor.promote(T0, 0);
    for (let i = 1n; i <= 3n; i++) lessor.grant(i, 600, T0);
    expect(lessor.findDueCheckpoints(T0 + 60_000).map((c) => c.id)).toEqual([1n, 2n]);
    expect(lessor.findDueCheckpoints(T0 + 60_000).map((c) => c.id)).toEqual([3n]);
    lessor.grant(4n, 600, T0);
    lessor.demote();
    expect(lessor.findDueCheckpoints(T0 + 1e9)).toEqual([]);
  });

  it('a lease renewed to its full TTL is skipped', () => {
    const { lessor } = newLessor({ checkpointIntervalMs: 60_000 });
    lessor.promote(T0, 0);
    lessor.grant(1n, 600, T0);
    lessor.renew(1n, T0 + 60_000);
    expect(lessor.findDueCheckpoints(T0 + 60_000)).toEqual([]);
  });
});
