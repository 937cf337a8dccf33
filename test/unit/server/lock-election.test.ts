// Server-side v3lockpb.Lock and v3electionpb.Election on an in-process member, checked against what
// etcd 3.4.23 answers (see the comments of src/server/v3-lock.ts and v3-election.ts), plus the SAFE
// re-check that etcd 3.4 lacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdError } from '../../../src/server/errors.js';
import type { LeaderResponse } from '../../../src/pb/v3electionpb/LeaderResponse.js';
import { removeDir, startMember, tempDir, type TestMember } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);
const hex = (lease: string): string => BigInt(lease).toString(16);
const rangeReq = (key: string, over: Record<string, unknown> = {}) => ({
  key: b(key), range_end: Buffer.alloc(0), limit: '0', revision: '0', sort_order: 'NONE' as const, sort_target: 'KEY' as const,
  serializable: false, keys_only: false, count_only: false, min_mod_revision: '0', max_mod_revision: '0',
  min_create_revision: '0', max_create_revision: '0', ...over,
});
const putReq = (key: string, value: string) => ({ key: b(key), value: b(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false });
const del = (key: string) => ({ key: b(key), range_end: Buffer.alloc(0), prev_kv: false });

/** A promise with a synchronous "settled yet?" probe. */
function track<T>(p: Promise<T>): { p: Promise<T>; settled: () => boolean } {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  return { p, settled: () => done };
}
const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));
const code = async (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'resolved', (e: unknown) => (e instanceof EtcdError ? e.code : String(e)));

describe('Lock and Election services (in-process member)', () => {
  let m: TestMember;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    m = await startMember(dir);
  });
  afterAll(async () => {
    await m.server.stop();
    await removeDir(dir);
  });
  const grant = async (ttl = 100): Promise<string> => String((await m.facade.leaseGrant({ ID: '0', TTL: String(ttl) })).ID);
  const rev = (): number => m.server.kv.rev();
  const keys = async (prefix: string): Promise<string[]> =>
    ((await m.facade.range(rangeReq(prefix, { range_end: b(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)) }))).kvs ?? [])
      .map((kv) => Buffer.from(kv.key as Buffer).toString());

  it('Lock with lease 0 grants a 60 s session lease, key <name>/<lease hex>, header of the put', async () => {
    const r = await m.facade.lock({ name: b('l0'), lease: '0' });
    const lease = (await m.facade.range(rangeReq(r.key!.toString()))).kvs![0]!.lease!.toString();
    expect(r.key!.toString()).toBe(`l0/${hex(lease)}`);
    expect(r.header?.revision).toBe(rev());
    const ttl = await m.facade.leaseTimeToLive({ ID: lease, keys: false });
    expect(ttl.grantedTTL).toBe(60);
  });

  it('the same lease locking twice is one acquisition (no new revision, same key)', async () => {
    const lease = await grant();
    const first = await m.facade.lock({ name: b('twice'), lease });
    const second = await m.facade.lock({ name: b('twice'), lease });
    expect(second.key).toEqual(first.key);
    expect(second.header?.revision).toBe(first.header?.revision);
  });

  it('a second locker waits until the holder unlocks; its header is the read after the delete', async () => {
    const [la, lb] = [await grant(), await grant()];
    const a = await m.facade.lock({ name: b('q'), lease: la });
    const wb = track(m.facade.lock({ name: b('q'), lease: lb }));
    await tick();
    await m.facade.put(putReq('unrelated', 'x'));
    await tick();
    expect(wb.settled()).toBe(false);
    const u = await m.facade.unlock({ key: Buffer.from(a.key!) });
    const rb = await wb.p;
    expect(rb.key!.toString()).toBe(`q/${hex(lb)}`);
    expect(rb.header?.revision).toBe(u.header?.revision);
  });

  it('a canceled Lock rejects with Canceled and deletes its waiter key', async () => {
    const [la, lc] = [await grant(), await grant()];
    await m.facade.lock({ name: b('cx'), lease: la });
    const ac = new AbortController();
    const wc = m.facade.lock({ name: b('cx'), lease: lc }, { signal: ac.signal });
    await tick();
    expect(await keys('cx/')).toEqual([`cx/${hex(la)}`, `cx/${hex(lc)}`]);
    ac.abort();
    expect(await code(wc)).toBe('Canceled');
    expect(await keys('cx/')).toEqual([`cx/${hex(la)}`]);
  });

  it('SAFE: a waiter whose lease is revoked while waiting fails with LeaseNotFound (etcd 3.4 returned the lock)', async () => {
    const [la, lb] = [await grant(), await grant()];
    const a = await m.facade.lock({ name: b('safe'), lease: la });
    const wb = track(m.facade.lock({ name: b('safe'), lease: lb }));
    await tick();
    await m.facade.leaseRevoke({ ID: lb });
    await m.facade.unlock({ key: Buffer.from(a.key!) });
    expect(await code(wb.p)).toBe('LeaseNotFound');
    expect(await keys('safe/')).toEqual([]);
  });

  it('SAFE: the Jepsen case — the waiter lease EXPIRES (not kept alive) before the holder unlocks', async () => {
    const [la, lb] = [await grant(), await grant(1)];
    const a = await m.facade.lock({ name: b('jepsen'), lease: la });
    const wb = track(m.facade.lock({ name: b('jepsen'), lease: lb }));
    const deadline = Date.now() + 10_000; // hang guard
    const waitFor = async (n: number): Promise<void> => {
      while ((await keys('jepsen/')).length !== n && Date.now() < deadline) await tick(50);
    };
    await waitFor(2); // B queued
    await waitFor(1); // B's lease expired and was revoked by the leader
    expect(await keys('jepsen/')).toEqual([`jepsen/${hex(la)}`]);
    expect(wb.settled()).toBe(false);
    await m.facade.unlock({ key: Buffer.from(a.key!) });
    expect(await code(wb.p)).toBe('LeaseNotFound');
  });

  it('SAFE: a waiter whose key was deleted by someone else (lease alive) queues again', async () => {
    const [la, lb, lc] = [await grant(), await grant(), await grant()];
    const a = await m.facade.lock({ name: b('rq'), lease: la });
    const wb = track(m.facade.lock({ name: b('rq'), lease: lb }));
    await tick();
    await m.facade.deleteRange(del(`rq/${hex(lb)}`));
    const c = track(m.facade.lock({ name: b('rq'), lease: lc }));
    await tick();
    await m.facade.unlock({ key: Buffer.from(a.key!) });
    // C queued before B's re-queue: C gets the lock, B waits behind it
    expect((await c.p).key!.toString()).toBe(`rq/${hex(lc)}`);
    await tick();
    expect(wb.settled()).toBe(false);
    await m.facade.unlock({ key: b(`rq/${hex(lc)}`) });
    expect((await wb.p).key!.toString()).toBe(`rq/${hex(lb)}`);
  });

  it('errors: unknown lease → LeaseNotFound; Unlock of an empty key → EmptyKey; of a missing key → header', async () => {
    expect(await code(m.facade.lock({ name: b('bad'), lease: '12345' }))).toBe('LeaseNotFound');
    expect(await code(m.facade.unlock({ key: Buffer.alloc(0) }))).toBe('EmptyKey');
    expect((await m.facade.unlock({ key: b('nothere') })).header?.revision).toBe(rev());
  });

  it('Campaign / Proclaim / Leader / Resign as etcd: header of the campaign txn, not-leader, no-leader', async () => {
    expect(await code(m.facade.leader({ name: b('el') }))).toBe('ElectionNoLeader');
    const [la, lb] = [await grant(), await grant()];
    const ca = await m.facade.campaign({ name: b('el'), lease: la, value: b('a') });
    expect(ca.leader).toEqual({ name: b('el'), key: b(`el/${hex(la)}`), rev: String(rev()), lease: la });
    const wb = track(m.facade.campaign({ name: b('el'), lease: lb, value: b('b') }));
    await tick();
    const bRev = rev();
    const leaderA = ca.leader!;
    await m.facade.proclaim({ leader: leaderA as never, value: b('a2') });
    const l = await m.facade.leader({ name: b('el') });
    expect([l.kv?.value, l.kv?.version, l.header?.revision]).toEqual([b('a2'), 2, rev()]);
    expect(await code(m.facade.proclaim({ leader: { ...leaderA, rev: '1' } as never, value: b('x') }))).toBe('ElectionNotLeader');
    expect(await code(m.facade.proclaim({ leader: null, value: b('x') }))).toBe('MissingLeaderKey');
    expect(wb.settled()).toBe(false);
    const notLeader = await m.facade.resign({ leader: { ...leaderA, rev: '1' } as never });
    expect(notLeader.header?.revision).toBe(rev());
    expect(wb.settled()).toBe(false);
    await m.facade.resign({ leader: leaderA as never });
    const cb = await wb.p;
    expect(cb.header?.revision).toBe(bRev);
    expect(cb.leader?.rev).toBe(String(bRev));
    expect((await m.facade.leader({ name: b('el') })).kv?.value).toEqual(b('b'));
  });

  it('Campaign again with the same lease and another value proclaims it and returns at once', async () => {
    const la = await grant();
    const first = await m.facade.campaign({ name: b('again'), lease: la, value: b('v1') });
    const second = await m.facade.campaign({ name: b('again'), lease: la, value: b('v2') });
    expect(second.header?.revision).toBe(first.header?.revision);
    expect((await m.facade.leader({ name: b('again') })).kv?.value).toEqual(b('v2'));
  });

  it('a canceled Campaign resigns (deletes its key)', async () => {
    const [la, lc] = [await grant(), await grant()];
    await m.facade.campaign({ name: b('ec'), lease: la, value: b('a') });
    const ac = new AbortController();
    const wc = m.facade.campaign({ name: b('ec'), lease: lc, value: b('c') }, { signal: ac.signal });
    await tick();
    expect((await keys('ec/')).length).toBe(2);
    ac.abort();
    expect(await code(wc)).toBe('Canceled');
    expect(await keys('ec/')).toEqual([`ec/${hex(la)}`]);
  });

  it('SAFE: a candidate whose lease is revoked while waiting fails with LeaseNotFound', async () => {
    const [la, lb] = [await grant(), await grant()];
    const a = (await m.facade.campaign({ name: b('es'), lease: la, value: b('a') })).leader!;
    const wb = track(m.facade.campaign({ name: b('es'), lease: lb, value: b('b') }));
    await tick();
    await m.facade.leaseRevoke({ ID: lb });
    await m.facade.resign({ leader: a as never });
    expect(await code(wb.p)).toBe('LeaseNotFound');
    expect(await code(m.facade.leader({ name: b('es') }))).toBe('ElectionNoLeader');
  });

  it('Observe: leader, its proclamations, the next leader, then (after none) the first new put', async () => {
    const ac = new AbortController();
    const seen: LeaderResponse[] = [];
    const done = (async () => {
      for await (const r of m.facade.observe({ name: b('ob') }, { signal: ac.signal })) seen.push(r);
    })();
    await tick();
    const [la, lb] = [await grant(), await grant()];
    const a = (await m.facade.campaign({ name: b('ob'), lease: la, value: b('a') })).leader!;
    const aRev = rev();
    const wb = m.facade.campaign({ name: b('ob'), lease: lb, value: b('b') });
    await tick();
    await m.facade.proclaim({ leader: a as never, value: b('a2') });
    const a2Rev = rev();
    await m.facade.resign({ leader: a as never });
    const handover = rev();
    await wb;
    await m.facade.deleteRange({ key: b('ob/'), range_end: b('ob0'), prev_kv: false });
    await m.facade.campaign({ name: b('ob'), lease: la, value: b('a3') });
    const a3Rev = rev();
    await tick(60);
    ac.abort();
    await done;
    expect(seen.map((r) => [r.kv?.value?.toString(), r.header?.revision])).toEqual([
      ['a', aRev],
      ['a2', a2Rev],
      ['b', handover],
      ['a3', a3Rev],
    ]);
  });
});
