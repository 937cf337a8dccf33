// KvStore.restore (a follower installing a leader's snapshot): the index, revisions and compaction come
// from the new backend state, keys are re-attached to their leases, and watchers carry on: a synced
// watcher catches up from the new state's history, or is canceled as compacted when that history is gone.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareRestore, snapshotStream, swapInRestored, type Backend } from '../../../src/backend/index.js';
import type { KvStore, WatchResponse } from '../../../src/mvcc/index.js';
import { B, openStore, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Backend[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
  await cleanup();
});

async function store(name: string, attached?: string[]): Promise<{ kv: KvStore; backend: Backend; path: string }> {
  const path = join(dir, name);
  const leases = attached && { exists: () => true, attach: (id: bigint, k: Uint8Array) => void attached.push(`${Buffer.from(k)}@${id}`), detach: () => undefined };
  const s = await openStore(path, { leases });
  open.push(s.backend);
  return { ...s, path };
}

/** Replaces `target`'s state with `source`'s as a snapshot install does (image, prepare, restore + swap). */
async function install(target: { kv: KvStore; backend: Backend; path: string }, source: Backend): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of snapshotStream(source)) chunks.push(c);
  await prepareRestore(target.path, chunks);
  await target.kv.restore(() => target.backend.reopen(() => swapInRestored(target.path)));
}

const brief = (r: WatchResponse | null): string => (r ? `${r.compactRevision ? `compacted@${r.compactRevision}` : ''}${r.events.map((e) => `${e.type} ${e.kv.key}=${e.kv.value} @${e.kv.modRevision}`).join(', ')}` : 'closed');

describe('KvStore.restore', () => {
  it('takes the new state whole: values, revisions, history; keys re-attached to their leases', async () => {
    const attached: string[] = [];
    const follower = await store('follower', attached);
    const leader = await store('leader');
    let i = 0;
    for (const kv of [follower.kv, leader.kv]) kv.put(++i, { key: B('a'), value: B('1') });
    leader.kv.put(++i, { key: B('b'), value: B('2'), lease: 7n });
    leader.kv.put(++i, { key: B('a'), value: B('3') });
    leader.kv.deleteRange(++i, { key: B('gone') });
    attached.length = 0;
    await install(follower, leader.backend);
    const r = follower.kv.range(B('a'), B('z'));
    expect(r.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`)).toEqual(['a=3@4', 'b=2@3']);
    expect([follower.kv.rev(), follower.kv.compactRevision()]).toEqual([leader.kv.rev(), -1]);
    expect(follower.kv.range(B('a'), undefined, { revision: 2 }).kvs[0]!.value.toString()).toBe('1');
    expect(attached).toEqual(['b@7']);
    expect(await follower.kv.hashKV(0)).toEqual(await leader.kv.hashKV(0));
    expect(follower.backend.consistentIndex()).toBe(leader.backend.consistentIndex());
    follower.kv.put(++i, { key: B('c'), value: B('after') }); // writable as before
    expect(follower.kv.rev()).toBe(leader.kv.rev() + 1);
  });

  it('watchers on the old state get what they missed from the new history, then live events', async () => {
    const follower = await store('follower');
    const leader = await store('leader');
    let i = 0;
    for (const kv of [follower.kv, leader.kv]) kv.put(++i, { key: B('a'), value: B('1') });
    const ws = follower.kv.watchStream();
    ws.watch({ key: B('a') }); // synced, from revision 3
    ws.watch({ key: B('a'), rangeEnd: B('c') });
    leader.kv.put(++i, { key: B('b'), value: B('2') });
    leader.kv.put(++i, { key: B('a'), value: B('3') });
    await install(follower, leader.backend);
    const got = [brief(await ws.next()), brief(await ws.next())].sort();
    expect(got).toEqual(['PUT a=3 @4', 'PUT b=2 @3, PUT a=3 @4']);
    follower.kv.put(++i, { key: B('a'), value: B('live') });
    expect([brief(await ws.next()), brief(await ws.next())]).toEqual(['PUT a=live @5', 'PUT a=live @5']);
    ws.close();
  });

  it('a watcher whose next revision the new state compacted away is canceled with the compact revision', async () => {
    const follower = await store('follower');
    const leader = await store('leader');
    let i = 0;
    for (const kv of [follower.kv, leader.kv]) kv.put(++i, { key: B('a'), value: B('1') });
    const ws = follower.kv.watchStream();
    const id = ws.watch({ key: B('a') });
    for (let n = 0; n < 5; n++) leader.kv.put(++i, { key: B('a'), value: B(`v${n}`) });
    await leader.kv.compact(++i, 6).done;
    await install(follower, leader.backend);
    const r = await ws.next();
    expect([r?.watchId, r?.compactRevision, r?.events.length]).toEqual([id, 6, 0]);
    expect(follower.kv.compactRevision()).toBe(6);
    ws.close();
  });
});

describe('KvStore.restore and progress notifications', () => {
  it('sends none while the revision is being rebuilt; a requested one goes after, at the new revision (regression: one went out at a revision from the middle of the rebuild, below what the watch had been sent: all 300 s seed 305)', async () => {
    const follower = await store('follower');
    const leader = await store('leader');
    let i = 0;
    for (let j = 0; j < 20; j++) follower.kv.put(++i, { key: B('a'), value: B(`f${j}`) });
    for (let j = 0; j < 30; j++) leader.kv.put(j + 1, { key: B('a'), value: B(`l${j}`) });
    const ws = follower.kv.watchStream();
    const id = ws.watch({ key: B('a'), startRevision: follower.kv.rev() + 1 }); // synced
    const chunks: Buffer[] = [];
    for await (const c of snapshotStream(leader.backend)) chunks.push(c);
    await prepareRestore(follower.path, chunks);
    let mid = -1;
    await follower.kv.restore(async () => {
      await follower.backend.reopen(() => swapInRestored(follower.path));
      ws.requestProgress(); // the store is mid-restore: must wait
      ws.progress(id);
      mid = ws.pendingResponses();
    });
    expect(mid).toBe(0);
    const got: WatchResponse[] = [];
    while (!got.some((r) => r.watchId === -1)) got.push((await ws.next())!);
    for (const r of got) expect(r.revision).toBeGreaterThanOrEqual(21);
    expect(got[got.length - 1]!.revision).toBe(leader.kv.rev());
    ws.close();
  });
});
