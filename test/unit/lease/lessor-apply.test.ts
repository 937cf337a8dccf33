// The applied (replicated) half of the lessor: grant, revoke, attach/detach, checkpoint, recover.
import { describe, expect, it } from 'vitest';
import {
  LeaseError,
  type LeaseView,
  Lessor,
  MAX_LEASE_TTL_SECONDS,
  decodeLeaseRecord,
  isLeaseError,
  minLeaseTTLSeconds,
} from '../../../src/lease/index.js';
import { MemoryLeaseStore, b, newLessor, str } from './helpers.js';

const T0 = 1_000_000;

describe('grant', () => {
  it.each([
    { name: 'plain', id: 1n, ttl: 30, want: 30 },
    { name: 'TTL 1 raised to the 2 s minimum', id: 2n, ttl: 1, want: 2 },
    { name: 'TTL 0 raised', id: 3n, ttl: 0, want: 2 },
    { name: 'negative TTL raised', id: 4n, ttl: -5, want: 2 },
    { name: 'negative id (client chosen) accepted', id: -7n, ttl: 30, want: 30 },
    { name: 'exactly the maximum', id: 5n, ttl: MAX_LEASE_TTL_SECONDS, want: MAX_LEASE_TTL_SECONDS },
  ])('$name → TTL $want', ({ id, ttl, want }) => {
    const { lessor, store } = newLessor();
    const v = lessor.grant(id, ttl, T0) as LeaseView;
    expect(isLeaseError(v)).toBe(false);
    expect(v.ttl).toBe(want);
    expect(lessor.lookup(id)?.ttl).toBe(want);
    expect(decodeLeaseRecord(store.data.get(id)!)).toEqual({ id, ttl: want, remainingTTL: 0 });
  });

  it.each([
    { name: 'id 0', id: 0n, ttl: 10, pre: [], want: 'lease-not-found' },
    { name: 'TTL above the maximum', id: 1n, ttl: MAX_LEASE_TTL_SECONDS + 1, pre: [], want: 'lease-ttl-too-large' },
    { name: 'id in use', id: 1n, ttl: 10, pre: [1n], want: 'lease-exists' },
    { name: 'too large wins over exists (etcd order)', id: 1n, ttl: 1e12, pre: [1n], want: 'lease-ttl-too-large' },
  ])('refuses $name', ({ id, ttl, pre, want }) => {
    const { lessor, store } = newLessor();
    for (const p of pre) lessor.grant(p, 5, T0);
    const before = store.log.length;
    const r = lessor.grant(id, ttl, T0);
    expect(isLeaseError(r) && r.code).toBe(want);
    expect(store.log.length).toBe(before); // nothing written
  });

  it('minimum is configurable and derived as etcd does', () => {
    expect(minLeaseTTLSeconds(10, 100)).toBe(2); // default: 1.5 s → 2
    expect(minLeaseTTLSeconds(10, 1000)).toBe(15);
    expect(minLeaseTTLSeconds(5, 100)).toBe(1); // ⌊7.5⌋ ticks × 100 ms = 0.7 s → 1
    const { lessor } = newLessor({ minTTLSeconds: 15 });
    expect((lessor.grant(1n, 10, T0) as LeaseView).ttl).toBe(15);
  });

  it('a follower grants leases that never expire; a leader gives now + TTL', () => {
    const { lessor } = newLessor();
    expect(lessor.lookup((lessor.grant(1n, 10, T0) as LeaseView).id)?.expiryMs).toBe(Infinity);
    lessor.promote(T0, 0);
    expect((lessor.grant(2n, 10, T0 + 5) as LeaseView).expiryMs).toBe(T0 + 5 + 10_000);
  });

  it('refuses a non-integer TTL as a broken invariant', () => {
    expect(() => newLessor().lessor.grant(1n, 1.5, T0)).toThrow(/integer/);
  });
});

describe('revoke', () => {
  it('returns the attached keys in byte order and forgets the lease', () => {
    const { lessor, store } = newLessor();
    lessor.grant(100n, 30, T0);
    lessor.attach(100n, [b('b'), b('a'), b('\xff'), b('a\x00'), b('B')]);
    const keys = lessor.revoke(100n) as Uint8Array[];
    expect(str(keys)).toEqual(['B', 'a', 'a\x00', 'b', '\xff']);
    expect(lessor.has(100n)).toBe(false);
    expect(store.data.has(100n)).toBe(false);
    expect(store.log.at(-1)).toBe('delete 100');
    expect(lessor.getLease(b('a'))).toBe(0n);
  });

  it('a lease without keys revokes to an empty list', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 30, T0);
    expect(lessor.revoke(1n)).toEqual([]);
  });

  it('unknown and already revoked ids are not found', () => {
    const { lessor } = newLessor();
    expect(lessor.revoke(12345n)).toBe(LeaseError.notFound);
    lessor.grant(1n, 30, T0);
    lessor.revoke(1n);
    expect(lessor.revoke(1n)).toBe(LeaseError.notFound);
  });

  it('a revoked leader lease is no longer found expired', () => {
    const { lessor } = newLessor();
    lessor.promote(T0, 0);
    lessor.grant(1n, 2, T0);
    lessor.grant(2n, 2, T0);
    lessor.revoke(1n);
    expect(lessor.findExpired(T0 + 5000)).toEqual([2n]);
  });
});

describe('attach / detach / getLease', () => {
  const cases: { name: string; ops: [string, bigint, string[]][]; want: Record<string, string[]>; err?: string }[] = [
    { name: 'attach two keys', ops: [['attach', 1n, ['a', 'b']]], want: { '1': ['a', 'b'], '2': [] } },
    { name: 'attach is idempotent', ops: [['attach', 1n, ['a']], ['attach', 1n, ['a']]], want: { '1': ['a'], '2': [] } },
    { name: 'detach one of two', ops: [['attach', 1n, ['a', 'b']], ['detach', 1n, ['a']]], want: { '1': ['b'], '2': [] } },
    { name: 'a key moves to its new lease', ops: [['attach', 1n, ['a', 'b']], ['attach', 2n, ['a']]], want: { '1': ['b'], '2': ['a'] } },
    { name: 'detach from the wrong lease keeps the mapping', ops: [['attach', 2n, ['a']], ['detach', 1n, ['a']]], want: { '1': [], '2': ['a'] } },
    { name: 'attach to an unknown lease', ops: [['attach', 9n, ['a']]], want: { '1': [], '2': [] }, err: 'lease-not-found' },
    { name: 'detach from an unknown lease', ops: [['detach', 9n, ['a']]], want: { '1': [], '2': [] }, err: 'lease-not-found' },
  ];
  it.each(cases)('$name', ({ ops, want, err }) => {
    const { lessor } = newLessor();
    lessor.grant(1n, 30, T0);
    lessor.grant(2n, 30, T0);
    let last: LeaseError | undefined;
    for (const [op, id, keys] of ops) last = op === 'attach' ? lessor.attach(id, keys.map(b)) : lessor.detach(id, keys.map(b));
    expect(last?.code).toBe(err);
    for (const [id, keys] of Object.entries(want)) {
      expect(str((lessor.timeToLive(BigInt(id), T0) as { keys: Uint8Array[] }).keys)).toEqual(keys);
      for (const k of keys) expect(lessor.getLease(b(k))).toBe(BigInt(id));
    }
  });

  it('binary keys survive the round trip byte for byte', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 30, T0);
    const key = Uint8Array.from([0, 0xc3, 0x28, 0xff, 0x80]); // not valid UTF-8
    lessor.attach(1n, [key]);
    expect(lessor.getLease(key)).toBe(1n);
    expect(Buffer.from((lessor.revoke(1n) as Uint8Array[])[0]!).equals(Buffer.from(key))).toBe(true);
  });
});

describe('checkpoint (applied)', () => {
  it('stores the remaining TTL and ignores unknown ids', () => {
    const { lessor, store } = newLessor();
    lessor.grant(1n, 600, T0);
    lessor.checkpoint(1n, 300, T0);
    lessor.checkpoint(99n, 5, T0);
    expect(lessor.lookup(1n)?.remainingTTL).toBe(300);
    expect(decodeLeaseRecord(store.data.get(1n)!)).toEqual({ id: 1n, ttl: 600, remainingTTL: 300 });
    expect(store.data.has(99n)).toBe(false);
  });
});

describe('recover from the LeaseStore', () => {
  it('rebuilds every lease, endless until promoted, keys re-attached by the server', () => {
    const { lessor, store } = newLessor({ checkpointIntervalMs: 60_000 });
    lessor.grant(1n, 30, T0);
    lessor.grant(-7n, 600, T0);
    lessor.grant(3n, 10, T0);
    lessor.checkpoint(-7n, 120, T0);
    lessor.revoke(3n);
    lessor.attach(1n, [b('k')]);

    const again = new Lessor({ store: Object.assign(new MemoryLeaseStore(), { data: new Map(store.data) }) });
    again.recover();
    expect(again.leases()).toEqual([
      { id: -7n, ttl: 600, remainingTTL: 120, expiryMs: Infinity },
      { id: 1n, ttl: 30, remainingTTL: 0, expiryMs: Infinity },
    ]);
    expect(again.getLease(b('k'))).toBe(0n); // attachments live in MVCC, not here
    again.attach(1n, [b('k')]);
    again.promote(T0, 1000);
    expect(again.lookup(-7n)?.expiryMs).toBe(T0 + 1000 + 120_000); // checkpointed TTL counts
    expect(again.lookup(1n)?.expiryMs).toBe(T0 + 1000 + 30_000);
  });

  it('recover() replaces any state held before', () => {
    const { lessor, store } = newLessor();
    lessor.grant(1n, 30, T0);
    store.data.clear();
    lessor.recover();
    expect(lessor.size).toBe(0);
  });

  it('a record stored under the wrong key is corruption', () => {
    const { lessor, store } = newLessor();
    lessor.grant(1n, 30, T0);
    store.data.set(2n, store.data.get(1n)!);
    expect(() => lessor.recover()).toThrow(/stored record 1 under key 2/);
  });
});

describe('replicas agree', () => {
  it('a leader and a follower applying the same entries hold the same stored bytes', () => {
    const leader = newLessor();
    const follower = newLessor();
    leader.lessor.promote(T0, 1000);
    const apply = (l: Lessor, nowMs: number) => {
      l.grant(1n, 30, nowMs);
      l.grant(2n, 1, nowMs);
      l.attach(1n, [b('x'), b('y')]);
      l.checkpoint(1n, 20, nowMs);
      return l.revoke(1n);
    };
    expect(str(apply(leader.lessor, T0) as Uint8Array[])).toEqual(str(apply(follower.lessor, T0 + 777) as Uint8Array[]));
    expect([...leader.store.data]).toEqual([...follower.store.data]);
    expect(leader.store.log).toEqual(follower.store.log);
  });
});
