import { afterEach, describe, expect, it } from 'vitest';
import type { V2KeysRequest } from '../../../src/server/facade.js';
import { V2Error } from '../../../src/v2store/index.js';
import { removeDir, startMember, tempDir, type TestMember } from './helpers.js';

const req = (method: V2KeysRequest['method'], key: string, over: Partial<V2KeysRequest> = {}): V2KeysRequest => ({
  method, key, dir: false, refresh: false, recursive: false, sorted: false, quorum: false, ...over,
});

describe('the v2 store through raft', () => {
  const dirs: string[] = [];
  const members: TestMember[] = [];
  afterEach(async () => {
    for (const m of members.splice(0)) await m.server.stop();
    for (const d of dirs.splice(0)) await removeDir(d);
  });
  const start = async (dir: string, over = {}): Promise<TestMember> => {
    const m = await startMember(dir, over);
    members.push(m);
    return m;
  };
  const fresh = async (over = {}): Promise<TestMember> => {
    const d = await tempDir();
    dirs.push(d);
    return start(d, over);
  };

  it('gives the first user write index 4 on a fresh member, as etcd (membership mirrored under /0)', async () => {
    const m = await fresh();
    const e = await m.facade.v2Keys(req('PUT', '/message', { value: 'Hello world' }));
    expect(e.serialize()).toBe('{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":4,"createdIndex":4}}');
    const got = await m.facade.v2Keys(req('GET', '/message'));
    expect(got.node.value).toBe('Hello world');
    const quorum = await m.facade.v2Keys(req('GET', '/message', { quorum: true }));
    expect(quorum.node.modifiedIndex).toBe(4);
  });

  it('answers domain failures with the v2 error and writes nothing', async () => {
    const m = await fresh();
    await expect(m.facade.v2Keys(req('GET', '/nope'))).rejects.toBeInstanceOf(V2Error);
    await expect(m.facade.v2Keys(req('PUT', '/k', { value: 'v', prevExist: true }))).rejects.toMatchObject({ errorCode: 100 });
    expect(m.facade.v2Index()).toBe(3);
    await m.facade.v2Keys(req('PUT', '/k', { value: 'v1' }));
    await expect(m.facade.v2Keys(req('PUT', '/k', { value: 'v2', prevValue: 'other' }))).rejects.toMatchObject({ errorCode: 101 });
    const cas = await m.facade.v2Keys(req('PUT', '/k', { value: 'v2', prevValue: 'v1' }));
    expect(cas.action).toBe('compareAndSwap');
  });

  it('expires TTL keys through a SYNC proposed by the leader', async () => {
    let clock = 1_800_000_000_000;
    const m = await fresh({ now: () => clock });
    await m.facade.v2Keys(req('PUT', '/ttl', { value: 'x', ttlSeconds: 5 }));
    const w = m.facade.v2Watch('/ttl', { recursive: false, stream: false, sinceIndex: 0 });
    clock += 6000;
    const ev = await w.next();
    expect(ev?.action).toBe('expire');
    await expect(m.facade.v2Keys(req('GET', '/ttl'))).rejects.toMatchObject({ errorCode: 100 });
  });

  it('keeps the v2 tree across restarts, from the WAL and from a snapshot', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const opts = { snapshotCount: 10, snapshotCatchUpEntries: 2 };
    const first = await start(dir, opts);
    for (let i = 0; i < 15; i++) await first.facade.v2Keys(req('PUT', `/dir/k${i}`, { value: String(i) }));
    const before = first.facade.v2Index();
    await first.server.stop();
    members.splice(0);
    const second = await start(dir, opts);
    const listing = await second.facade.v2Keys(req('GET', '/dir', { sorted: true }));
    expect(listing.node.nodes?.length).toBe(15);
    // a restarted member publishes its attributes again: one more index, as etcd does
    expect(second.facade.v2Index()).toBe(before + 1);
  });
});
