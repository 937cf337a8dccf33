// The store in a raft snapshot as etcd 3.4 writes it (its store JSON), read and written by ours.
// Fixture: test/fixtures/v2store/etcd34-store.json, from a real etcd 3.4.23's .snap (make.sh there).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGoTimeMs } from '../../../src/v2store/etcd-snapshot.js';
import {
  V2Error, V2Store, formatRfc3339Nano, mirrorClusterVersion, mirrorMemberAdd, mirrorMemberAttributes,
} from '../../../src/v2store/index.js';
import { encodeSnapshot } from '../../../src/v2store/snapshot.js';

const fixture = readFileSync(new URL('../../fixtures/v2store/etcd34-store.json', import.meta.url));
type Json = Record<string, unknown>;
const etcdJson = (): Json => JSON.parse(fixture.toString('utf8')) as Json;

const TTL_EXPIRE = '2026-12-07T06:13:01.213356032Z'; // /ttl, refreshed to 3000 s
const TDIR_EXPIRE = '2026-12-07T07:23:01.114955767Z';
const ms = (s: string): number => parseGoTimeMs(s)!;
/** How ours shows etcd's expiration (within a microsecond: ours keeps fractional ms). */
const shown = (s: string): string => formatRfc3339Nano(ms(s));
const at = ms('2026-12-07T05:23:01Z');

/** The writes make.sh sent to etcd, replayed on ours with etcd's expirations. */
function replay(): V2Store {
  const s = new V2Store();
  mirrorMemberAdd(s, '7d07b6b9bfeb346a', { peerURLs: ['http://127.0.0.1:23805'] }, at);
  mirrorMemberAttributes(s, '7d07b6b9bfeb346a', { name: 'fx', clientURLs: ['http://127.0.0.1:23795'] }, at);
  mirrorClusterVersion(s, '3.4.0', at);
  s.set('/a', { value: '1' }, at);
  s.set('/dir/x', { value: '<x>' }, at);
  s.set('/dir/y', { value: 'y' }, at);
  s.set('/dir/_hidden', { value: 'h' }, at);
  const ttlExpire = ms('2026-12-07T06:23:01.082445232Z');
  s.set('/ttl', { value: 't', expireAtMs: ttlExpire }, ttlExpire - 3600_000); // the ttl etcd showed then
  s.set('/tdir', { dir: true, expireAtMs: ms(TDIR_EXPIRE) }, ms(TDIR_EXPIRE) - 7200_000);
  s.set('/empty', { value: '' }, at);
  s.set('/a', { value: '2' }, at);
  s.update('/ttl', { refresh: true, expireAtMs: ms(TTL_EXPIRE) }, ms(TTL_EXPIRE) - 3000_000);
  s.delete('/dir/y', {}, at);
  s.compareAndSwap('/a', '2', undefined, { value: '3' }, at);
  s.create('/queue', { value: 'job', unique: true }, at);
  s.set('/emptydir', { dir: true }, at);
  try { s.get('/nope', {}, at); } catch (e) { if (!(e instanceof V2Error)) throw e; }
  return s;
}

/** Times rounded to the microsecond (ours keeps ms in a double); getsFail left out (etcd counts internal gets). */
function normalized(j: Json): Json {
  const micro = (text: string): string => text.replace(/"(\d{4}-\d\d-\d\dT[\d:.]+Z)"/g,
    (_m, t: string) => `${Math.round(ms(t) * 1000)}`);
  const walk = (n: Json): Json => {
    const kids = n.Children as Record<string, Json> | null;
    const t = parseGoTimeMs(n.ExpireTime as string);
    return { ...n, ExpireTime: t === undefined ? 'zero' : Math.round(t * 1000),
      Children: kids === null ? null : Object.fromEntries(Object.entries(kids).map(([k, v]) => [k, walk(v)])) };
  };
  const stats = { ...(j.Stats as Json), getsFail: 'ignored' };
  const history = JSON.parse(micro(JSON.stringify(j.WatcherHub))) as Json;
  return { ...j, Root: walk(j.Root as Json), WatcherHub: history, Stats: stats };
}

describe("etcd's store JSON in raft snapshots", () => {
  it("reads a real etcd 3.4.23 snapshot's store: tree, index, TTLs, history, counters", () => {
    const s = V2Store.recover(fixture);
    expect(s.index()).toBe(16);
    const now = at + 1000;
    expect(s.get('/', { recursive: true, sorted: true }, now).serialize()).toBe(JSON.stringify({
      action: 'get', node: { dir: true, nodes: [
        { key: '/a', value: '3', modifiedIndex: 14, createdIndex: 11 },
        { key: '/dir', dir: true, nodes: [{ key: '/dir/x', value: '\u003cx\u003e', modifiedIndex: 5, createdIndex: 5 }],
          modifiedIndex: 5, createdIndex: 5 },
        { key: '/empty', value: '', modifiedIndex: 10, createdIndex: 10 },
        { key: '/emptydir', dir: true, modifiedIndex: 16, createdIndex: 16 },
        { key: '/queue', dir: true, nodes: [{ key: '/queue/00000000000000000015', value: 'job', modifiedIndex: 15,
          createdIndex: 15 }], modifiedIndex: 15, createdIndex: 15 },
        { key: '/tdir', dir: true, expiration: shown(TDIR_EXPIRE), ttl: 7200, modifiedIndex: 9, createdIndex: 9 },
        { key: '/ttl', value: 't', expiration: shown(TTL_EXPIRE), ttl: 3000, modifiedIndex: 12, createdIndex: 8 },
      ] } }).replace('<x>', '\\u003cx\\u003e'));
    expect(s.get('/dir/_hidden', {}, now).node.value).toBe('h');
    expect(s.getPath('/0/version', {}, now).node.value).toBe('3.4.0');
    expect(s.statsJson().setsSuccess).toBe(11);
    // history: waitIndex answers from etcd's events, with client keys; the refresh is kept but not seen
    const seen: string[] = [];
    s.watch('/ttl', { sinceIndex: 9 }).setListener((e) => { if (e) seen.push(e.serialize()); });
    s.watch('/dir', { recursive: true, sinceIndex: 6 }).setListener((e) => { if (e) seen.push(e.serialize()); });
    expect(seen).toEqual(['{"action":"set","node":{"key":"/dir/y","value":"y","modifiedIndex":6,"createdIndex":6}}']);
    // TTLs: /ttl goes at its refreshed expiration, not before (the watcher on /ttl waited past the refresh)
    s.deleteExpiredKeys(ms(TTL_EXPIRE) - 0.001);
    expect(s.index()).toBe(16);
    s.deleteExpiredKeys(ms(TTL_EXPIRE) + 0.001);
    expect(s.index()).toBe(17);
    expect(seen[1]).toBe('{"action":"expire","node":{"key":"/ttl","modifiedIndex":17,"createdIndex":8},"prevNode":'
      + `{"key":"/ttl","value":"t","expiration":"${shown(TTL_EXPIRE)}","modifiedIndex":12,"createdIndex":8}}`);
    expect(() => s.get('/ttl', {}, now)).toThrow(V2Error);
  });

  it("writes etcd's JSON: the same writes on ours give etcd's document (field names, order, tree, history ring)", () => {
    const ours = JSON.parse(replay().save().toString('utf8')) as Json;
    const theirs = etcdJson();
    expect(JSON.stringify(normalized(ours))).toBe(JSON.stringify(normalized(theirs)));
    // read back by ours, written again: the same bytes
    const again = V2Store.recover(replay().save()).save();
    expect(again.equals(replay().save())).toBe(true);
  });

  it("etcd's document read and written by ours comes back as etcd wrote it", () => {
    const back = JSON.parse(V2Store.recover(fixture).save().toString('utf8')) as Json;
    expect(JSON.stringify(normalized(back))).toBe(JSON.stringify(normalized(etcdJson())));
  });

  it("reads a wrapped history ring (Front past 0) in order", () => {
    const j = etcdJson() as { WatcherHub: { EventHistory: { Queue: { Events: unknown[]; Front: number; Back: number } } } };
    const q = j.WatcherHub.EventHistory.Queue;
    q.Events = [...q.Events.slice(-7), ...q.Events.slice(0, -7)]; // the same 16 events, starting at slot 7
    q.Front = 7;
    q.Back = 23;
    const s = V2Store.recover(Buffer.from(JSON.stringify(j)));
    const a = V2Store.recover(fixture);
    expect(s.save().equals(a.save())).toBe(true);
  });

  it('still reads our older snapshot format (.snap files written before)', () => {
    const s = replay();
    const old = encodeSnapshot(s.index(), s.stats, s.root, s.hub.history.events());
    expect(old.subarray(0, 5).toString()).toBe('{"v":');
    expect(V2Store.recover(old).save().equals(s.save())).toBe(true);
  });

  it("parses Go's time JSON: offsets, nanoseconds, the zero time", () => {
    expect(parseGoTimeMs('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(parseGoTimeMs('2026-12-07T07:23:01.114955767+01:00')).toBe(ms('2026-12-07T06:23:01.114955767Z'));
    expect(parseGoTimeMs('2026-12-07T00:53:01.5-05:30')).toBe(Date.UTC(2026, 11, 7, 6, 23, 1, 500));
    expect(() => parseGoTimeMs('yesterday')).toThrow(/ExpireTime/);
  });
});
