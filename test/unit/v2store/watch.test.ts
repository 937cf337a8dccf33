// Watches: long poll, waitIndex into the 1000-event history, recursion, hidden keys, streams, expiry.
import { describe, expect, it } from 'vitest';
import { V2Error, WATCHER_QUEUE_LIMIT, type V2Event, type V2Watcher } from '../../../src/v2store/index.js';
import { freshMember, T0 } from './helpers.js';

const t = T0 + 1000;

function drain(w: V2Watcher): string[] {
  const out: string[] = [];
  w.setListener((e) => out.push(e === undefined ? 'END' : e.serialize()));
  return out;
}

describe('long poll', () => {
  it('waits for the next change of the key, reports the start index, then ends', async () => {
    const s = freshMember();
    s.set('/foo', { value: 'a' }, t);
    const w = s.watch('/foo', {});
    expect(w.startIndex).toBe(4);
    const pending = w.next();
    s.set('/other', { value: 'x' }, t);
    s.set('/foo', { value: 'b' }, t);
    const e = (await pending) as V2Event;
    expect(e.serialize()).toBe('{"action":"set","node":{"key":"/foo","value":"b","modifiedIndex":6,"createdIndex":6},'
      + '"prevNode":{"key":"/foo","value":"a","modifiedIndex":4,"createdIndex":4}}');
    expect(await w.next()).toBeUndefined();
    expect(s.statsJson().watchers).toBe(0);
  });

  it('counts live watchers and forgets removed ones', () => {
    const s = freshMember();
    const a = s.watch('/a', {});
    s.watch('/b', { recursive: true, stream: true });
    expect(s.statsJson().watchers).toBe(2);
    a.remove();
    a.remove();
    expect(s.statsJson().watchers).toBe(1);
  });

  it('a non-recursive watch ignores children; a recursive one sees them', () => {
    const s = freshMember();
    const flat = drain(s.watch('/q', {}));
    const deep = drain(s.watch('/q', { recursive: true }));
    s.create('/q', { value: 'j', unique: true }, t);
    expect(flat).toEqual([]);
    expect(deep).toEqual(['{"action":"create","node":{"key":"/q/00000000000000000004","value":"j","modifiedIndex":4,"createdIndex":4}}', 'END']);
  });
});

describe('waitIndex and history', () => {
  it('answers from history, skipping refresh events (observed)', () => {
    const s = freshMember();
    s.set('/t1', { value: 'v', ttlSeconds: 100 }, t); // 4
    s.set('/t1', { ttlSeconds: 200, refresh: true }, t); // 5 refresh
    s.update('/t1', { ttlSeconds: 200, refresh: true }, t); // 6 refresh
    s.update('/t1', { value: 'v2' }, t); // 7
    const w = s.watch('/t1', { sinceIndex: 5 });
    const got = drain(w);
    expect(got[0]).toMatch(/^\{"action":"update","node":\{"key":"\/t1","value":"v2","modifiedIndex":7,"createdIndex":5\}/);
    expect(got[1]).toBe('END');
    expect(s.watch('/t1', { sinceIndex: 1 }).startIndex).toBe(7);
    expect(drain(s.watch('/t1', { sinceIndex: 1 }))[0]).toContain('"modifiedIndex":4');
  });

  it('waits when sinceIndex is past the last event (a stream answered from history stays open)', () => {
    const s = freshMember();
    const got = drain(s.watch('/k', { sinceIndex: 10 }));
    for (let i = 0; i < 8; i++) s.set('/k', { value: String(i) }, t); // 4..11
    expect(got.length).toBe(2);
    expect(got[0]).toContain('"modifiedIndex":10,');
    s.set('/k', { value: 'x' }, t);
    const stream = drain(s.watch('/k', { sinceIndex: 5, stream: true }));
    s.set('/k', { value: 'y' }, t);
    expect(stream.length).toBe(1);
    expect(stream[0]).toContain('"modifiedIndex":5,');
  });

  it('keeps 1000 events: older waitIndex is error 401 (observed [69/68] at index 1068)', () => {
    const s = freshMember();
    for (let i = 1; i <= 1065; i++) s.set('/load', { value: String(i) }, t);
    expect(s.index()).toBe(1068);
    let err: unknown;
    try { s.watch('/load', { sinceIndex: 68 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(V2Error);
    expect((err as V2Error).serialize()).toBe('{"errorCode":401,"message":"The event in requested index is outdated and cleared",'
      + '"cause":"the requested history has been cleared [69/68]","index":1068}');
    expect((err as V2Error).httpStatus()).toBe(400);
    expect(drain(s.watch('/load', { sinceIndex: 69 }))[0])
      .toBe('{"action":"set","node":{"key":"/load","value":"66","modifiedIndex":69,"createdIndex":69},'
        + '"prevNode":{"key":"/load","value":"65","modifiedIndex":68,"createdIndex":68}}');
  });

  it('honours a smaller historyLimit', () => {
    const s = freshMember({ historyLimit: 2 });
    s.set('/a', { value: '1' }, t);
    expect(() => s.watch('/a', { sinceIndex: 2 })).toThrow(expect.objectContaining({
      errorCode: 401, cause: 'the requested history has been cleared [3/2]', index: 4 }));
  });

  it('a removed directory matches watchers below it, also from history', () => {
    const s = freshMember();
    s.set('/sd/x', { value: '1' }, t); // 4
    const live = drain(s.watch('/sd/x', {}));
    s.delete('/sd', { recursive: true }, t); // 5
    const want = '{"action":"delete","node":{"key":"/sd","dir":true,"modifiedIndex":5,"createdIndex":4},'
      + '"prevNode":{"key":"/sd","dir":true,"modifiedIndex":4,"createdIndex":4}}';
    expect(live).toEqual([want, 'END']);
    expect(drain(s.watch('/sd/x', { sinceIndex: 5 }))[0]).toBe(want);
    // etcd's history match is a plain string prefix: /sdx sees the removal of /sd (observed)
    expect(drain(s.watch('/sdx', { sinceIndex: 4 }))[0]).toBe(want);
  });
});

describe('streams and hidden keys (observed)', () => {
  it('delivers what etcd delivered to five concurrent watchers', () => {
    const s = freshMember();
    s.set('/sw', { value: '1' }, t); // 4
    const sw = drain(s.watch('/sw', { stream: true }));
    const root = drain(s.watch('/', { recursive: true, stream: true }));
    const once = drain(s.watch('/sd/x', {}));
    const sdx = drain(s.watch('/sd/x', { stream: true }));
    s.set('/sw', { value: '2' }, t); // 5
    s.set('/sd/x', { value: '1' }, t); // 6
    s.set('/sd/x', { value: '2' }, t); // 7
    s.set('/_hid', { value: '2' }, t); // 8
    s.delete('/sd', { recursive: true }, t); // 9
    s.delete('/sw', {}, t); // 10
    const delSw = '{"action":"delete","node":{"key":"/sw","modifiedIndex":10,"createdIndex":5},'
      + '"prevNode":{"key":"/sw","value":"2","modifiedIndex":5,"createdIndex":5}}';
    // etcd tells a stream watcher at a deleted key twice (once as removed node, once on the path walk).
    expect(sw.slice(1)).toEqual([delSw, delSw]);
    expect(root.map((x) => JSON.parse(x).node.key)).toEqual(['/sw', '/sd/x', '/sd/x', '/sd', '/sw']);
    expect(once.length).toBe(2);
    expect(sdx.map((x) => JSON.parse(x).action)).toEqual(['set', 'set', 'delete']);
    expect(s.statsJson().watchers).toBe(3);
  });

  it('a watcher on a hidden key itself sees it', () => {
    const s = freshMember();
    const got = drain(s.watch('/_h', {}));
    s.set('/_h', { value: '1' }, t);
    expect(got[0]).toContain('"key":"/_h"');
  });

  it('never blocks a writer: an unread stream watcher is dropped after its queue fills', async () => {
    const s = freshMember();
    const w = s.watch('/k', { stream: true });
    for (let i = 0; i <= WATCHER_QUEUE_LIMIT; i++) s.set('/k', { value: String(i) }, t);
    expect(s.statsJson().watchers).toBe(0);
    let count = 0;
    while ((await w.next()) !== undefined) count++;
    expect(count).toBe(WATCHER_QUEUE_LIMIT);
  });
});

describe('expiry', () => {
  it('expires at the SYNC time, one event per node, notifying watchers below an expired dir', () => {
    const s = freshMember();
    s.set('/td', { dir: true, ttlSeconds: 10 }, t); // 4
    s.set('/td/x', { value: '1', ttlSeconds: 20 }, t); // 5
    s.set('/k', { value: 'v', ttlSeconds: 5 }, t); // 6
    const child = drain(s.watch('/td/x', {}));
    s.deleteExpiredKeys(t + 4999);
    expect(s.index()).toBe(6);
    s.deleteExpiredKeys(t + 10_000);
    expect(s.index()).toBe(8);
    expect(child[0]).toBe(`{"action":"expire","node":{"key":"/td","dir":true,"modifiedIndex":8,"createdIndex":4},`
      + `"prevNode":{"key":"/td","dir":true,"expiration":"${new Date(t + 10_000).toISOString()}","modifiedIndex":4,"createdIndex":4}}`);
    s.deleteExpiredKeys(t + 30_000); // /td/x went with its dir
    expect(s.index()).toBe(8);
    expect(s.statsJson().expireCount).toBe(2);
  });

  it('a late SYNC shows the negative ttl etcd computes', () => {
    const s = freshMember();
    s.set('/k', { value: 'v', ttlSeconds: 1 }, t);
    const got = drain(s.watch('/k', {}));
    s.deleteExpiredKeys(t + 3500);
    expect(got[0]).toContain('"ttl":-2,');
  });
});
