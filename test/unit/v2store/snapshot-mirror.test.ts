// Snapshots (save/recover), determinism across replicas, and the /0 cluster mirror.
import { describe, expect, it } from 'vitest';
import {
  V2Error, V2Store, mirrorClusterVersion, mirrorMemberAdd, mirrorMemberRaftAttributes, mirrorMemberRemove,
  raftAttributesJson, attributesJson,
} from '../../../src/v2store/index.js';
import { freshMember, T0 } from './helpers.js';

const t = T0 + 1000;

/** A small seeded generator (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = (s: V2Store) => void;

/** Random writes (some failing), TTLs and SYNCs; every op carries its own `now`, as log entries do. */
function randomOps(seed: number, count: number): Op[] {
  const r = rng(seed);
  const keys = ['/a', '/b', '/d/x', '/d/y', '/d', '/_h', '/q'];
  const ops: Op[] = [];
  let now = t;
  for (let i = 0; i < count; i++) {
    now += Math.floor(r() * 700);
    const at = now;
    const k = keys[Math.floor(r() * keys.length)] as string;
    const v = String(Math.floor(r() * 3));
    const ttl = r() < 0.3 ? { ttlSeconds: Math.floor(r() * 5) } : {};
    const flag = r() < 0.5;
    const choices: Op[] = [
      (s) => s.set(k, { value: v, ...ttl }, at),
      (s) => s.create(k, { value: v, unique: flag, ...ttl }, at),
      (s) => s.update(k, { value: v, ...ttl }, at),
      (s) => s.compareAndSwap(k, v, undefined, { value: `${v}x`, ...ttl }, at),
      (s) => s.delete(k, { recursive: flag }, at),
      (s) => s.compareAndDelete(k, v, undefined, at),
      (s) => s.set(k, { dir: true, ...ttl }, at),
      (s) => s.deleteExpiredKeys(at),
    ];
    const op = choices[Math.floor(r() * choices.length)] as Op;
    ops.push((s) => { try { op(s); } catch (e) { if (!(e instanceof V2Error)) throw e; } });
  }
  return ops;
}

describe('snapshot', () => {
  it('round-trips tree, index, history, counters and TTLs', () => {
    const s = freshMember();
    s.set('/a', { value: '<1>' }, t);
    s.set('/d/x', { value: 'x', ttlSeconds: 5 }, t);
    s.set('/d/_h', { value: 'h' }, t);
    s.set('/d/x', { ttlSeconds: 9, refresh: true }, t);
    const bytes = s.save();
    const r = V2Store.recover(bytes);
    expect(r.index()).toBe(s.index());
    expect(r.save().equals(bytes)).toBe(true);
    expect(r.get('/', { recursive: true, sorted: true }, t).serialize())
      .toBe(s.get('/', { recursive: true, sorted: true }, t).serialize());
    expect(r.statsJson().setsSuccess).toBe(s.statsJson().setsSuccess - 0);
    // history survives: waitIndex 4 answers the first user write
    const e: string[] = [];
    r.watch('/a', { sinceIndex: 4 }).setListener((x) => { if (x) e.push(x.serialize()); });
    expect(e).toEqual(['{"action":"set","node":{"key":"/a","value":"\\u003c1\\u003e","modifiedIndex":4,"createdIndex":4}}']);
    // TTLs survive: the refreshed /d/x expires at t+9s, not before
    r.deleteExpiredKeys(t + 8999);
    expect(r.index()).toBe(s.index());
    r.deleteExpiredKeys(t + 9000);
    expect(r.index()).toBe(s.index() + 1);
  });

  it('restore keeps live watchers waiting', () => {
    const s = freshMember();
    const got: string[] = [];
    s.watch('/k', {}).setListener((x) => got.push(x ? x.action : 'END'));
    const other = freshMember();
    other.set('/z', { value: '1' }, t);
    s.restore(other.save());
    s.set('/k', { value: '1' }, t);
    expect(got).toEqual(['set', 'END']);
    expect(s.index()).toBe(5);
  });

  it.each([1, 2, 3, 4, 5])('replicas applying the same ops agree, also after a restore midway (seed %i)', (seed) => {
    const ops = randomOps(seed, 400);
    const a = freshMember();
    const b = freshMember();
    for (const op of ops) { op(a); op(b); }
    expect(a.save().equals(b.save())).toBe(true);
    const c = freshMember();
    for (const op of ops.slice(0, 200)) op(c);
    const d = V2Store.recover(c.save());
    for (const op of ops.slice(200)) op(d);
    expect(d.save().toString()).toBe(a.save().toString());
    expect(a.index()).toBeGreaterThan(50);
  });

  it('rejects an unknown format', () => {
    expect(() => V2Store.recover(Buffer.from('{"v":99}'))).toThrow(/format/);
  });
});

describe('the /0 cluster mirror', () => {
  it('leaves a fresh member at index 3 so the first user write is 4 (observed)', () => {
    const s = freshMember();
    expect(s.index()).toBe(3);
    expect(s.set('/x', { value: '1' }, t).serialize())
      .toBe('{"action":"set","node":{"key":"/x","value":"1","modifiedIndex":4,"createdIndex":4}}');
  });

  it('writes etcd\'s values at etcd\'s paths and indexes (from a 3.4.23 snapshot)', () => {
    const s = freshMember();
    const n = s.getPath('/0', { recursive: true, sorted: true }, t).node;
    expect(JSON.stringify(n)).toBe(JSON.stringify({ key: '/0', dir: true, nodes: [
      { key: '/0/members', dir: true, nodes: [{ key: '/0/members/667880157b8812c8', dir: true, nodes: [
        { key: '/0/members/667880157b8812c8/attributes',
          value: '{"name":"default","clientURLs":["http://127.0.0.1:42379"]}', modifiedIndex: 2, createdIndex: 2 },
        { key: '/0/members/667880157b8812c8/raftAttributes', value: '{"peerURLs":["http://127.0.0.1:42380"]}',
          modifiedIndex: 1, createdIndex: 1 }], modifiedIndex: 1, createdIndex: 1 }], modifiedIndex: 1, createdIndex: 1 },
      { key: '/0/version', value: '3.4.0', modifiedIndex: 3, createdIndex: 3 }] }));
    const st = s.statsJson();
    expect([st.createSuccess, st.setsSuccess, st.getsSuccess]).toEqual([1, 2, 0]);
  });

  it('is invisible to user reads and watches', () => {
    const s = freshMember();
    const got: string[] = [];
    s.watch('/', { recursive: true, sinceIndex: 1 }).setListener((x) => got.push(x ? x.node.key ?? '' : 'END'));
    mirrorClusterVersion(s, '3.4.0', t);
    s.set('/u', { value: '1' }, t);
    expect(got).toEqual(['/u', 'END']);
  });

  it('updates, promotes and removes members as etcd does', () => {
    const s = freshMember();
    mirrorMemberAdd(s, 'abc', { peerURLs: ['http://10.0.0.2:2380'], isLearner: true }, t);
    expect(s.getPath('/0/members/abc/raftAttributes', {}, t).node.value)
      .toBe('{"peerURLs":["http://10.0.0.2:2380"],"isLearner":true}');
    mirrorMemberRaftAttributes(s, 'abc', { peerURLs: ['http://10.0.0.2:2380'] }, t);
    expect(s.getPath('/0/members/abc/raftAttributes', {}, t).node.value).toBe('{"peerURLs":["http://10.0.0.2:2380"]}');
    const evs = mirrorMemberRemove(s, 'abc', t);
    expect(evs.map((e) => [e.action, e.node.key])).toEqual([['delete', '/0/members/abc'], ['create', '/0/removed_members/abc']]);
    expect(() => s.getPath('/0/members/abc', {}, t)).toThrow(V2Error);
    expect(mirrorMemberRemove(s, 'never', t).length).toBe(1);
    expect(s.index()).toBe(8);
  });

  it('encodes attributes like Go (omitempty name/clientURLs, HTML escaping)', () => {
    expect(attributesJson({ name: '', clientURLs: [] })).toBe('{}');
    expect(attributesJson({ name: 'n', clientURLs: ['http://h/?a&b'] })).toBe('{"name":"n","clientURLs":["http://h/?a\\u0026b"]}');
    expect(raftAttributesJson({ peerURLs: ['http://a:2380', 'http://b:2380'] })).toBe('{"peerURLs":["http://a:2380","http://b:2380"]}');
  });
});

describe('store stats (observed against etcd 3.4.23)', () => {
  it('counts as etcd does, including its compareAndDelete quirk', () => {
    const s = freshMember();
    s.set('/c', { value: '1' }, t);
    s.set('/dd', { dir: true }, t);
    const tries = [
      () => s.compareAndDelete('/c', '9', undefined, t), // 101 → counted as success by etcd
      () => s.compareAndDelete('/nope', '9', undefined, t), // 100 → fail
      () => s.compareAndDelete('/dd', '9', undefined, t), // 102 → success
      () => s.compareAndSwap('/c', '9', undefined, { value: '2' }, t), // fail
      () => s.compareAndSwap('/zz', '1', undefined, { value: '2' }, t), // fail
      () => s.set('/zz', { refresh: true, ttlSeconds: 5 }, t), // setsFail
      () => s.set('/', { value: '1' }, t), // setsFail
      () => s.create('/c', { value: '3' }, t), // createFail
      () => s.get('/zz', {}, t), // getsFail
      () => s.delete('/zz', {}, t), // deleteFail
    ];
    for (const f of tries) expect(f).toThrow(V2Error);
    expect(s.authEnabledProbe()).toBe(false);
    const st = s.statsJson();
    expect(st).toEqual({ getsSuccess: 0, getsFail: 2, setsSuccess: 4, setsFail: 2, deleteSuccess: 0, deleteFail: 1,
      updateSuccess: 0, updateFail: 0, createSuccess: 1, createFail: 1, compareAndSwapSuccess: 0,
      compareAndSwapFail: 2, compareAndDeleteSuccess: 2, compareAndDeleteFail: 1, expireCount: 0, watchers: 0 });
    expect(Object.keys(st)).toEqual(['getsSuccess', 'getsFail', 'setsSuccess', 'setsFail', 'deleteSuccess', 'deleteFail',
      'updateSuccess', 'updateFail', 'createSuccess', 'createFail', 'compareAndSwapSuccess', 'compareAndSwapFail',
      'compareAndDeleteSuccess', 'compareAndDeleteFail', 'expireCount', 'watchers']);
  });
});
