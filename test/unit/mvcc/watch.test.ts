// Watchable store: synced delivery, catch-up from history, victims under a slow consumer (no event lost
// or duplicated), compacted start revisions, prevKv, filters, one response per revision.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/index.js';
import { MvccError, syncReadLimit, watchStreamQueueLimit, type KvStore, type TxnRequest, type WatchResponse, type WatchStream } from '../../../src/mvcc/index.js';
import { ALL, B, openStore, tempDir } from './helpers.js';

let kv: KvStore;
let backend: Backend;
let cleanup: () => Promise<void>;
let idx = 0;
beforeEach(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  ({ kv, backend } = await openStore(t.dir));
});
afterEach(async () => {
  await backend.close();
  await cleanup();
});

const put = (k: string, v: string) => kv.put(++idx, { key: B(k), value: B(v) });
const brief = (r: WatchResponse | null) =>
  r && { id: r.watchId, compact: r.compactRevision, evs: r.events.map((e) => `${e.type} ${e.kv.key} ${e.kv.modRevision}${e.prevKv ? ` prev=${e.prevKv.value}` : ''}`) };

async function take(ws: WatchStream, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) out.push(...brief(await ws.next())!.evs);
  return out;
}

describe('watch', () => {
  it('synced watcher gets live events; one response per txn revision; prevKv on request', async () => {
    const ws = kv.watchStream();
    const id = ws.watch({ key: B('a'), rangeEnd: B('c'), prevKv: true });
    expect(id).toBe(0);
    put('a', '1');
    kv.txn(++idx, { compare: [], success: [{ put: { key: B('a'), value: B('2') } }, { put: { key: B('b'), value: B('x') } }, { put: { key: B('z'), value: B('x') } }], failure: [] });
    kv.deleteRange(++idx, { key: B('a') });
    expect(brief(await ws.next())).toEqual({ id: 0, compact: undefined, evs: ['PUT a 2'] });
    expect(brief(await ws.next())!.evs).toEqual(['PUT a 3 prev=1', 'PUT b 3']);
    expect(brief(await ws.next())!.evs).toEqual(['DELETE a 4 prev=2']);
    ws.close();
  });

  it('catches up from a past start revision, then continues live, without gaps or duplicates', async () => {
    for (let i = 0; i < 50; i++) put(`k${i % 5}`, `${i}`);
    await backend.commit();
    for (let i = 0; i < 10; i++) put(`k${i % 5}`, `late${i}`);
    const ws = kv.watchStream();
    ws.watch({ key: B('k'), rangeEnd: B('l'), startRevision: 10 });
    const first = ws.next();
    for (let i = 0; i < 5; i++) put('k9', `${i}`); // revisions 62..66, while the watcher is unsynced
    const revs = brief(await first)!.evs.map((e) => Number(e.split(' ')[2]));
    while (revs[revs.length - 1]! < 66) revs.push(...(await take(ws, 1)).map((e) => Number(e.split(' ')[2])));
    expect(revs).toEqual(Array.from({ length: 66 - 10 + 1 }, (_, i) => 10 + i));
    ws.close();
  });

  it('filters and a single-key watcher', async () => {
    const ws = kv.watchStream();
    ws.watch({ key: B('a'), filters: ['NOPUT'] });
    ws.watch({ key: B('a'), filters: ['NODELETE'], id: 7 });
    expect(() => ws.watch({ key: B('x'), id: 7 })).toThrow(MvccError);
    put('a', '1');
    put('ab', '1');
    kv.deleteRange(++idx, { key: B('a') });
    const got = [brief(await ws.next()), brief(await ws.next())];
    expect(got).toEqual([{ id: 7, compact: undefined, evs: ['PUT a 2'] }, { id: 0, compact: undefined, evs: ['DELETE a 4'] }]);
    ws.close();
  });

  it('a key changed twice in one txn: both events carry its value before the txn as prev_kv (etcd reads revision - 1)', async () => {
    put('a', '1');
    const ws = kv.watchStream();
    ws.watch({ key: B('a'), rangeEnd: B('c'), prevKv: true });
    // sibling nested txns: a put, then a delete of the same key, pass etcd's duplicate-key check
    const only = (op: TxnRequest['success'][number]): TxnRequest['success'][number] => ({ txn: { compare: [], success: [op], failure: [] } });
    kv.txn(++idx, {
      compare: [],
      success: [only({ put: { key: B('b'), value: B('x') } }), only({ deleteRange: { key: B('b') } }), only({ put: { key: B('a'), value: B('3') } }), only({ deleteRange: { key: B('a') } })],
      failure: [],
    });
    // as etcd 3.4.23 answers (checked live): no prev_kv for b, the pre-txn a=1 twice
    expect(brief(await ws.next())!.evs).toEqual(['PUT b 3', 'DELETE b 3', 'PUT a 3 prev=1', 'DELETE a 3 prev=1']);
    ws.close();
  });

  it('a key deleted and put again in one txn: the put is a create event, without prev_kv (etcd), live and from history', async () => {
    put('foo/1', '1');
    const live = kv.watchStream();
    live.watch({ key: B('b'), rangeEnd: B('\0'), prevKv: true });
    // a from-key delete (range_end "\0") passes etcd's duplicate-key check
    kv.txn(++idx, { compare: [], success: [{ deleteRange: { key: B('c'), rangeEnd: B('\0') } }, { put: { key: B('foo/1'), value: B('2') } }], failure: [] });
    const want = ['DELETE foo/1 3 prev=1', 'PUT foo/1 3'];
    expect(brief(await live.next())!.evs).toEqual(want);
    const past = kv.watchStream();
    past.watch({ key: B('b'), rangeEnd: B('\0'), prevKv: true, startRevision: 3 });
    expect(brief(await past.next())!.evs).toEqual(want);
    live.close();
    past.close();
  });

  it('negative start revisions as etcd: -1 starts now, below the compact revision (-1 before any compaction) is compacted', async () => {
    put('a', '1');
    const ws = kv.watchStream();
    const now = ws.watch({ key: B('a'), startRevision: -1 });
    const low = ws.watch({ key: B('a'), startRevision: -2 });
    expect(brief(await ws.next())).toEqual({ id: low, compact: -1, evs: [] });
    put('a', '2');
    expect(brief(await ws.next())).toEqual({ id: now, compact: undefined, evs: ['PUT a 3'] });
    kv.compact(++idx, 2);
    const after = ws.watch({ key: B('a'), startRevision: -1 });
    expect(brief(await ws.next())).toEqual({ id: after, compact: 2, evs: [] });
    ws.close();
  });

  it('a compacted start revision gets the compact revision and the watcher is removed', async () => {
    for (let i = 0; i < 5; i++) put('a', `${i}`);
    kv.compact(++idx, 4);
    const ws = kv.watchStream();
    const id = ws.watch({ key: B('a'), startRevision: 2 });
    const canceled = await ws.next();
    expect(brief(canceled)).toEqual({ id, compact: 4, evs: [] });
    expect(canceled?.revision).toBe(0); // etcd's response carries no revision (its header shows none)
    // as in etcd's watchStream, the id stays taken until the client cancels it
    expect(() => ws.watch({ id, key: B('a') })).toThrow(MvccError);
    expect(ws.cancel(id)).toBe(true);
    expect(ws.cancel(id)).toBe(false);
    const ok = ws.watch({ key: B('a'), startRevision: 4, prevKv: true });
    expect(brief(await ws.next())).toEqual({ id: ok, compact: undefined, evs: ['PUT a 4', 'PUT a 5 prev=2', 'PUT a 6 prev=3'] });
    ws.close();
  });

  it('a slow consumer never blocks writers and loses nothing (victims are retried)', async () => {
    const ws = kv.watchStream();
    const fast = kv.watchStream();
    ws.watch({ key: ALL, rangeEnd: ALL });
    fast.watch({ key: B('k'), rangeEnd: ALL });
    const n = watchStreamQueueLimit * 3;
    const fastGot: number[] = [];
    for (let i = 0; i < n; i++) {
      put(`k${i % 7}`, `${i}`);
      const r = await fast.next();
      fastGot.push(r!.events[0]!.kv.modRevision);
    }
    expect(ws.pendingResponses()).toBe(watchStreamQueueLimit);
    const revs: number[] = [];
    while (revs.length < n) for (const e of (await ws.next())!.events) revs.push(e.kv.modRevision);
    const want = Array.from({ length: n }, (_, i) => i + 2);
    expect(revs).toEqual(want);
    expect(fastGot).toEqual(want);
    ws.close();
    fast.close();
  });

  it('catch-up longer than one read round never splits a revision across responses', async () => {
    const txns = Math.ceil(syncReadLimit / 3) + 50;
    for (let i = 0; i < txns; i++) {
      kv.txn(++idx, { compare: [], success: [0, 1, 2].map((j) => ({ put: { key: B(`k${j}`), value: B(`${i}`) } })), failure: [] });
    }
    const ws = kv.watchStream();
    ws.watch({ key: B('k'), rangeEnd: B('l'), startRevision: 2 });
    const seen: number[] = [];
    let responses = 0;
    while (seen.length < txns * 3) {
      const r = (await ws.next())!;
      responses++;
      const revs = r.events.map((e) => e.kv.modRevision);
      // each revision's 3 events arrive together
      for (const rev of new Set(revs)) expect(revs.filter((x) => x === rev).length).toBe(3);
      seen.push(...revs);
    }
    expect(responses).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: txns * 3 }, (_, i) => 2 + Math.floor(i / 3)));
    ws.close();
  });

  it('fans out one write to many watchers', async () => {
    const streams = Array.from({ length: 20 }, () => kv.watchStream());
    for (const s of streams) for (let i = 0; i < 50; i++) s.watch({ key: B('hot') });
    put('hot', 'v');
    let total = 0;
    for (const s of streams) for (let i = 0; i < 50; i++) total += (await s.next())!.events.length;
    expect(total).toBe(1000);
    for (const s of streams) s.close();
  });
});

describe('watch: a victim retried while another watcher catches up', () => {
  it('still gets every revision it missed (regression: events from before the catch-up read were skipped)', async () => {
    const slow = kv.watchStream();
    slow.watch({ key: B('k') }); // synced from now; its consumer does not read for a while
    const first = kv.rev() + 1;
    for (let i = 0; i < watchStreamQueueLimit + 40; i++) put('k', `v${i}`); // queue full: a victim
    const catcher = kv.watchStream();
    catcher.watch({ key: B('k'), startRevision: kv.rev() - 5 }); // unsynced: a history read starts
    await new Promise((r) => setImmediate(r)); // the read is in flight (LevelDB iterators are async)
    const last = kv.rev();
    const seen: number[] = [];
    const deadline = Date.now() + 10_000;
    while (seen[seen.length - 1] !== last && Date.now() < deadline) {
      const r = await slow.next();
      for (const e of r!.events) seen.push(e.kv.modRevision);
    }
    expect(seen).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
    slow.close();
    catcher.close();
  });

  it('hands the same event object to every watcher that gets the same content (the API encodes it once)', () => {
    put('s', '0');
    const ws = kv.watchStream();
    for (let i = 0; i < 3; i++) ws.watch({ key: B('s') });
    ws.watch({ key: B('s'), prevKv: true });
    ws.watch({ key: B('s'), prevKv: true });
    put('s', '1');
    const resps = [ws.take(), ws.take(), ws.take(), ws.take(), ws.take()].map((r) => r!);
    const got = resps.map((r) => r.events[0]!);
    expect(ws.take()).toBeUndefined(); // take() does not wait: nothing else is queued
    expect(got.map((e) => `${e.kv.value}${e.prevKv ? ` prev=${e.prevKv.value}` : ''}`)).toEqual(['1', '1', '1', '1 prev=0', '1 prev=0']);
    expect(new Set(got.slice(0, 3)).size).toBe(1);
    expect(new Set(got.slice(3)).size).toBe(1);
    // the lists too, when a watcher gets all of the revision
    expect(new Set(resps.slice(0, 3).map((r) => r.events)).size).toBe(1);
    expect(new Set(resps.slice(3).map((r) => r.events)).size).toBe(1);
    ws.close();
  });
});

describe('watch: progress requests (bookmarkable)', () => {
  it('waits until every watcher of the stream has been sent everything up to the revision it names (regression: it was answered at once with the store revision while a watcher was still catching up, as etcd 3.4.23 did)', async () => {
    for (let i = 0; i < 40; i++) put(`k${i % 5}`, `${i}`);
    await backend.commit();
    const ws = kv.watchStream();
    ws.watch({ key: B('k'), rangeEnd: B('l'), startRevision: 2 }); // unsynced: 40 revisions to catch up
    ws.requestProgress();
    const got: Array<{ id: number; rev: number; last: number }> = [];
    while (!got.some((r) => r.id === -1)) {
      const r = (await ws.next())!;
      got.push({ id: r.watchId, rev: r.revision, last: Math.max(0, ...r.events.map((e) => e.kv.modRevision)) });
    }
    const progress = got[got.length - 1]!;
    expect(progress.rev).toBe(kv.rev());
    expect(Math.max(...got.slice(0, -1).map((r) => r.last))).toBe(kv.rev()); // every event up to it came first
    ws.close();
  });

  it("a watcher's own periodic notification goes only when it is synced", async () => {
    for (let i = 0; i < 10; i++) put('a', `${i}`);
    const ws = kv.watchStream();
    const id = ws.watch({ key: B('a'), startRevision: 2 }); // catching up
    ws.progress(id);
    const first = (await ws.next())!;
    expect(first.events.length).toBeGreaterThan(0);
    expect(Math.max(...first.events.map((e) => e.kv.modRevision))).toBe(kv.rev());
    ws.progress(id); // synced by now (the catch-up was one round)
    const p = (await ws.next())!;
    expect([p.watchId, p.events.length, p.revision]).toEqual([id, 0, kv.rev()]);
    ws.close();
  });

  it('a stream whose watchers are synced (or that has none) is answered at once, behind the events queued', async () => {
    const ws = kv.watchStream();
    ws.requestProgress();
    expect(brief(await ws.next())).toEqual({ id: -1, compact: undefined, evs: [] });
    ws.watch({ key: B('a') });
    put('a', '1');
    ws.requestProgress();
    expect(brief(await ws.next())!.evs).toEqual([`PUT a ${kv.rev()}`]);
    const p = (await ws.next())!;
    expect([p.watchId, p.revision]).toEqual([-1, kv.rev()]);
    ws.close();
  });
});
