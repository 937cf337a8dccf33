import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend, restoreEntries } from '../../../src/backend/index.js';
import { BoltDb, checkDb } from '../../../src/bbolt/index.js';
import { backendEntriesOfEtcdDb } from '../../../src/server/etcd-db.js';
import { KvStore } from '../../../src/mvcc/index.js';
import { EtcdError } from '../../../src/server/errors.js';
import type { ServerConfig } from '../../../src/server/config.js';
import { removeDir, startMember, tempDir, type TestMember } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);
const rangeReq = (key: string, over: Record<string, unknown> = {}) => ({
  key: b(key), range_end: Buffer.alloc(0), limit: '0', revision: '0', sort_order: 'NONE' as const, sort_target: 'KEY' as const,
  serializable: false, keys_only: false, count_only: false, min_mod_revision: '0', max_mod_revision: '0',
  min_create_revision: '0', max_create_revision: '0', ...over,
});
const putReq = (key: string, value: string, over: Record<string, unknown> = {}) => ({
  key: b(key), value: b(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false, ...over,
});

describe('EtcdServer, a cluster of one', () => {
  const dirs: string[] = [];
  const members: TestMember[] = [];
  afterEach(async () => {
    for (const m of members.splice(0)) await m.server.stop();
    for (const d of dirs.splice(0)) await removeDir(d);
  });
  const start = async (dir?: string, over: Partial<ServerConfig> = {}): Promise<TestMember> => {
    const d = dir ?? (await tempDir());
    if (!dir) dirs.push(d);
    const m = await startMember(d, over);
    members.push(m);
    return m;
  };

  it('boots as etcd does: raft index 4 and revision 1 before the first write, then 5 and 2', async () => {
    const m = await start();
    const st = await m.facade.status();
    expect(st.raftIndex).toBe(4);
    expect(st.raftTerm).toBe(2);
    expect(m.server.memberId.toString(16)).toBe('8e9e05c52164694d');
    const put = await m.facade.put(putReq('foo', 'bar'));
    expect(put.header?.revision).toBe(2);
    expect((await m.facade.status()).raftAppliedIndex).toBe(5);
  });

  it('puts, reads linearizably and serializably, and returns prev_kv', async () => {
    const m = await start();
    await m.facade.put(putReq('k', 'v1'));
    const second = await m.facade.put(putReq('k', 'v2', { prev_kv: true }));
    expect(second.prev_kv?.value).toEqual(b('v1'));
    for (const serializable of [false, true]) {
      const r = await m.facade.range(rangeReq('k', { serializable }));
      expect(r.kvs?.map((kv) => [kv.key?.toString(), kv.value?.toString(), kv.version])).toEqual([['k', 'v2', 2]]);
    }
  });

  it('refuses a write whose raft request (header and id included) exceeds max-request-bytes, as etcd does', async () => {
    // PutRequest{key 'k', value 1010 bytes} is 1016 bytes, within 1024; etcd limits the marshalled
    // InternalRaftRequest, ~17 bytes more (request header with its 64-bit id, field tag and length)
    const m = await start(undefined, { maxRequestBytes: 1024 });
    await expect(m.facade.put(putReq('k', 'v'.repeat(1010)))).rejects.toMatchObject({ code: 'RequestTooLarge' });
    expect((await m.facade.put(putReq('k', 'v'.repeat(990)))).header?.revision).toBe(2);
  });

  it('answers Defragment with an empty response, no header, as etcd 3.4 does', async () => {
    const m = await start();
    expect(await m.facade.defragment()).toEqual({});
  });

  it('refuses requests carrying a token with InvalidAuthToken where etcd reads the auth info (auth is off: no token is valid)', async () => {
    const m = await start();
    const ctx = { token: 'abc' };
    for (const call of [
      () => m.facade.range(rangeReq('a'), ctx),
      () => m.facade.put(putReq('a', 'v'), ctx),
      () => m.facade.leaseGrant({ ID: '0', TTL: '100' }, ctx),
    ]) await expect(call()).rejects.toMatchObject({ code: 'InvalidAuthToken' });
    expect((await m.facade.leaseLeases({}, ctx)).leases).toEqual([]);
    const stream = m.facade.openWatchStream({ send: () => true }, ctx);
    expect(() => stream.watch({ watchId: 0, key: b('a'), rangeEnd: Buffer.alloc(0), startRevision: 0, noPut: false, noDelete: false, prevKv: false, progressNotify: false }))
      .toThrow('rpc error: code = Unauthenticated desc = etcdserver: invalid auth token');
    stream.close();
    expect((await m.facade.range(rangeReq('a'))).count).toBe(0);
  });

  it('rejects a put with an unknown lease with LeaseNotFound and writes nothing', async () => {
    const m = await start();
    await expect(m.facade.put(putReq('x', 'y', { lease: '123' }))).rejects.toMatchObject({ code: 'LeaseNotFound' });
    const r = await m.facade.range(rangeReq('x'));
    expect(r.count).toBe(0);
    expect(r.header?.revision).toBe(1);
  });

  it('grants a lease, attaches keys, and revoking deletes them at one revision', async () => {
    const m = await start();
    const g = await m.facade.leaseGrant({ TTL: '60', ID: '0' });
    expect(BigInt(g.ID as string)).toBeGreaterThan(0n);
    await m.facade.put(putReq('a', '1', { lease: g.ID }));
    await m.facade.put(putReq('b', '2', { lease: g.ID }));
    const ttl = await m.facade.leaseTimeToLive({ ID: g.ID as string, keys: true });
    expect(ttl.keys?.map(String)).toEqual(['a', 'b']);
    const rev = await m.facade.leaseRevoke({ ID: g.ID as string });
    expect(rev.header?.revision).toBe(4);
    expect((await m.facade.range(rangeReq('a', { range_end: b('c') }))).count).toBe(0);
    expect((await m.facade.leaseTimeToLive({ ID: g.ID as string, keys: false })).TTL).toBe(-1);
  });

  it('compacts, then refuses reads at compacted revisions with Compacted', async () => {
    const m = await start();
    for (let i = 0; i < 3; i++) await m.facade.put(putReq('c', String(i)));
    await m.facade.compact({ revision: '3', physical: true });
    await expect(m.facade.range(rangeReq('c', { revision: '2' }))).rejects.toBeInstanceOf(EtcdError);
    await expect(m.facade.range(rangeReq('c', { revision: '2' }))).rejects.toMatchObject({ code: 'Compacted' });
    await expect(m.facade.range(rangeReq('c', { revision: '99' }))).rejects.toMatchObject({ code: 'FutureRev' });
    expect((await m.facade.range(rangeReq('c', { revision: '3' }))).kvs?.[0]?.value).toEqual(b('1'));
  });

  it('keeps every acknowledged write across a restart', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const first = await start(dir);
    for (let i = 0; i < 50; i++) await first.facade.put(putReq(`key${i}`, `value${i}`));
    await first.server.stop();
    members.splice(members.indexOf(first), 1);
    const second = await start(dir);
    const r = await second.facade.range(rangeReq('key', { range_end: b('kez') }));
    expect(r.count).toBe(50);
    expect(r.header?.revision).toBe(51);
    expect((await second.facade.put(putReq('after', 'restart'))).header?.revision).toBe(52);
  });

  it('a restarted member of a cluster of one leads at once, without waiting out an election timeout', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const first = await start(dir);
    await first.facade.put(putReq('k', 'v'));
    await first.server.stop();
    members.splice(members.indexOf(first), 1);
    // Ticks every minute: electing itself through the timer would take minutes, past startMember's 10 s.
    const second = await start(dir, { heartbeatIntervalMs: 60_000, electionTimeoutMs: 600_000 });
    expect(second.server.isLeader()).toBe(true);
    expect((await second.facade.put(putReq('k', 'w'))).header?.revision).toBe(3);
  });

  it('snapshots after --snapshot-count entries and restarts from the snapshot', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const first = await startMember(dir, { snapshotCount: 20, snapshotCatchUpEntries: 5 });
    for (let i = 0; i < 60; i++) await first.facade.put(putReq(`s${i}`, 'v'));
    await first.server.stop();
    const snaps = (await readdir(path.join(dir, 'member', 'snap'))).filter((f) => f.endsWith('.snap'));
    expect(snaps.length).toBeGreaterThanOrEqual(2);
    const second = await startMember(dir, { snapshotCount: 20, snapshotCatchUpEntries: 5 });
    members.push(second);
    const r = await second.facade.range(rangeReq('s', { range_end: b('t'), count_only: true }));
    expect(r.count).toBe(60);
  });

  it('restarts with every write after its in-memory log was trimmed between snapshots', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const first = await startMember(dir, { snapshotCount: 100_000, snapshotCatchUpEntries: 5 });
    for (let i = 0; i < 60; i++) await first.facade.put(putReq(`t${i}`, `v${i}`));
    await first.server.stop();
    const snaps = (await readdir(path.join(dir, 'member', 'snap'))).filter((f) => f.endsWith('.snap'));
    expect(snaps).toEqual([]); // no snapshot: the restart replays the whole WAL
    const second = await startMember(dir, { snapshotCount: 100_000, snapshotCatchUpEntries: 5 });
    members.push(second);
    const r = await second.facade.range(rangeReq('t', { range_end: b('u') }));
    expect(r.count).toBe(60);
    expect((r.kvs ?? []).map((kv) => String(kv.value)).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `v${i}`).sort());
  });

  it('streams watch events to a sink under the id the API chose, 0 included, and resumes from history', async () => {
    const m = await start();
    await m.facade.put(putReq('w', 'old'));
    const got: Array<{ id: number; evs: string[] }> = [];
    const stream = m.facade.openWatchStream({
      send: (batch) => {
        got.push({ id: batch.watchId, evs: batch.events.map((e) => `${e.type} ${String(e.kv?.key)} ${String(e.kv?.value ?? '')}`) });
        return true;
      },
    });
    const spec = { key: b('w'), rangeEnd: Buffer.alloc(0), noPut: false, noDelete: false, prevKv: false, progressNotify: false };
    stream.watch({ ...spec, watchId: 3, startRevision: 0 });
    stream.watch({ ...spec, watchId: 0, startRevision: 2 });
    await m.facade.put(putReq('w', 'new'));
    await m.facade.deleteRange({ key: b('w'), range_end: Buffer.alloc(0), prev_kv: false });
    const deadline = Date.now() + 5000;
    while (got.flatMap((g) => g.evs).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stream.close();
    const byId = (id: number): string[] => got.filter((g) => g.id === id).flatMap((g) => g.evs);
    expect(byId(3)).toEqual(['PUT w new', 'DELETE w ']);
    expect(byId(0)).toEqual(['PUT w old', 'PUT w new', 'DELETE w ']);
  });

  it('sends progress_notify watchers a progress notification each quiet period (--experimental-watch-progress-notify-interval), none to the others or while events flow', async () => {
    const m = await start(undefined, { watchProgressNotifyIntervalMs: 300 });
    await m.facade.put(putReq('p', 'v'));
    const got: Array<{ id: number; events: number; rev: number }> = [];
    const stream = m.facade.openWatchStream({ send: (batch) => (got.push({ id: batch.watchId, events: batch.events.length, rev: batch.revision }), true) });
    const spec = { key: b('p'), rangeEnd: Buffer.alloc(0), startRevision: 0, noPut: false, noDelete: false, prevKv: false };
    stream.watch({ ...spec, watchId: 1, progressNotify: true });
    stream.watch({ ...spec, watchId: 2, progressNotify: false });
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.every((g) => g.id === 1 && g.events === 0 && g.rev === m.server.kv.rev())).toBe(true);
    // periods with events for it: no notification at their end (one slow put may leave one quiet)
    got.length = 0;
    const until = Date.now() + 1000;
    while (Date.now() < until) await m.facade.put(putReq('p', 'x'));
    expect(got.filter((g) => g.id === 1 && g.events === 0).length).toBeLessThanOrEqual(1);
    stream.close();
  });

  it("serves etcd's bbolt database file, which restores to the same keys", async () => {
    const m = await start();
    await m.facade.put(putReq('snap', 'shot'));
    const src = await m.facade.snapshot();
    expect(src.size % 4096).toBe(0);
    const chunks: Uint8Array[] = [];
    for await (const c of src.chunks) chunks.push(c);
    const file = Buffer.concat(chunks);
    expect(file.length).toBe(src.size);
    const db = BoltDb.open(file);
    expect(checkDb(db)).toEqual([]);
    const dir = await tempDir();
    dirs.push(dir);
    await restoreEntries(path.join(dir, 'db'), backendEntriesOfEtcdDb(db));
    const backend = await Backend.open(path.join(dir, 'db'));
    try {
      const kv = await KvStore.open(backend);
      expect(kv.range(b('snap'), undefined).kvs[0]?.value).toEqual(b('shot'));
    } finally {
      await backend.close();
    }
  });

  it('takes a raft entry for every health read, alarm request and refused compaction, as etcd does', async () => {
    const m = await start();
    const index = async (): Promise<number> => Number((await m.facade.status()).raftIndex);
    const at = await index();
    await m.facade.healthRead();
    expect(await index()).toBe(at + 1);
    const list = await m.facade.alarm({ action: 'GET', memberID: '0', alarm: 'NONE' });
    expect(list).toEqual({ alarms: [] });
    expect(await index()).toBe(at + 2);
    await expect(m.facade.compact({ revision: '99', physical: false })).rejects.toMatchObject({ code: 'FutureRev' });
    expect(await index()).toBe(at + 3);
    expect(m.facade.healthState()).toEqual({ alarms: 0, hasLeader: true });
  });
});
