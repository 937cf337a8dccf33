// Replays a session observed against etcd 3.4.23 (test/unit/v2store/observed-etcd.md), step by step,
// comparing status and exact body bytes. Times are ours, so expirations are computed from `now`.
import { describe, expect, it } from 'vitest';
import type { V2Store } from '../../../src/v2store/index.js';
import { answer, exp, freshMember, T0 } from './helpers.js';

type Step = [label: string, run: (s: V2Store, now: number) => unknown, status: number, body: string];

const n = (k: string, v: string, m: number, c = m): string =>
  `{"key":"${k}","value":"${v}","modifiedIndex":${m},"createdIndex":${c}}`;

function steps(t: number): Step[] {
  const t11 = t + 11_000; // when the ttl writes of indexes 11..20 happen
  return [
    ['set new', (s, now) => s.set('/foo', { value: 'bar' }, now), 201, `{"action":"set","node":${n('/foo', 'bar', 4)}}`],
    ['set again', (s, now) => s.set('/foo', { value: 'bar2' }, now), 200,
      `{"action":"set","node":${n('/foo', 'bar2', 5)},"prevNode":${n('/foo', 'bar', 4)}}`],
    ['get', (s, now) => s.get('/foo', {}, now), 200, `{"action":"get","node":${n('/foo', 'bar2', 5)}}`],
    ['get root', (s, now) => s.get('/', {}, now), 200, `{"action":"get","node":{"dir":true,"nodes":[${n('/foo', 'bar2', 5)}]}}`],
    ['POST', (s, now) => s.create('/q', { value: 'j1', unique: true }, now), 201,
      `{"action":"create","node":${n('/q/00000000000000000006', 'j1', 6)}}`],
    ['POST 2', (s, now) => s.create('q', { value: 'j2', unique: true }, now), 201,
      `{"action":"create","node":${n('/q/00000000000000000007', 'j2', 7)}}`],
    ['get q sorted', (s, now) => s.get('/q', { recursive: true, sorted: true }, now), 200,
      `{"action":"get","node":{"key":"/q","dir":true,"nodes":[${n('/q/00000000000000000006', 'j1', 6)},`
      + `${n('/q/00000000000000000007', 'j2', 7)}],"modifiedIndex":6,"createdIndex":6}}`],
    ['mkdir', (s, now) => s.set('/d1', { dir: true }, now), 201, '{"action":"set","node":{"key":"/d1","dir":true,"modifiedIndex":8,"createdIndex":8}}'],
    ['deep set', (s, now) => s.set('/d1/a/b', { value: 'x' }, now), 201, `{"action":"set","node":${n('/d1/a/b', 'x', 9)}}`],
    ['hidden set', (s, now) => s.set('/d1/_hidden', { value: 'h' }, now), 201, `{"action":"set","node":${n('/d1/_hidden', 'h', 10)}}`],
    ['list one level, hidden left out', (s, now) => s.get('/d1', {}, now), 200,
      '{"action":"get","node":{"key":"/d1","dir":true,"nodes":[{"key":"/d1/a","dir":true,"modifiedIndex":9,"createdIndex":9}],"modifiedIndex":8,"createdIndex":8}}'],
    ['list recursive', (s, now) => s.get('/d1', { recursive: true }, now), 200,
      `{"action":"get","node":{"key":"/d1","dir":true,"nodes":[{"key":"/d1/a","dir":true,"nodes":[${n('/d1/a/b', 'x', 9)}],`
      + '"modifiedIndex":9,"createdIndex":9}],"modifiedIndex":8,"createdIndex":8}}'],
    ['hidden get', (s, now) => s.get('/d1/_hidden', {}, now), 200, `{"action":"get","node":${n('/d1/_hidden', 'h', 10)}}`],
    ['ttl set', (s) => s.set('/t1', { value: 'v', ttlSeconds: 100 }, t11), 201,
      `{"action":"set","node":{"key":"/t1","value":"v","expiration":"${exp(t11 + 100_000)}","ttl":100,"modifiedIndex":11,"createdIndex":11}}`],
    ['ttl dir', (s) => s.set('/td', { dir: true, ttlSeconds: 100 }, t11), 201,
      `{"action":"set","node":{"key":"/td","dir":true,"expiration":"${exp(t11 + 100_000)}","ttl":100,"modifiedIndex":12,"createdIndex":12}}`],
    ['file in ttl dir', (s) => s.set('/td/x', { value: '1' }, t11), 201, `{"action":"set","node":${n('/td/x', '1', 13)}}`],
    ['get ttl dir 1.5 s later', (s) => s.get('/td', { recursive: true }, t11 + 1500), 200,
      `{"action":"get","node":{"key":"/td","dir":true,"expiration":"${exp(t11 + 100_000)}","ttl":99,"nodes":[${n('/td/x', '1', 13)}],"modifiedIndex":12,"createdIndex":12}}`],
    ['refresh by set replaces the node', (s) => s.set('/t1', { ttlSeconds: 200, refresh: true }, t11), 200,
      `{"action":"set","node":{"key":"/t1","value":"v","expiration":"${exp(t11 + 200_000)}","ttl":200,"modifiedIndex":14,"createdIndex":14},`
      + `"prevNode":{"key":"/t1","value":"v","expiration":"${exp(t11 + 100_000)}","ttl":100,"modifiedIndex":11,"createdIndex":11}}`],
    ['refresh by update keeps createdIndex', (s) => s.update('/t1', { ttlSeconds: 200, refresh: true }, t11), 200,
      `{"action":"update","node":{"key":"/t1","value":"v","expiration":"${exp(t11 + 200_000)}","ttl":200,"modifiedIndex":15,"createdIndex":14},`
      + `"prevNode":{"key":"/t1","value":"v","expiration":"${exp(t11 + 200_000)}","ttl":200,"modifiedIndex":14,"createdIndex":14}}`],
    ['update without ttl drops it', (s) => s.update('/t1', { value: 'v2' }, t11), 200,
      `{"action":"update","node":${n('/t1', 'v2', 16, 14)},"prevNode":{"key":"/t1","value":"v","expiration":"${exp(t11 + 200_000)}","ttl":200,"modifiedIndex":15,"createdIndex":14}}`],
    ['set ttl 5', (s) => s.set('/t1', { value: 'v3', ttlSeconds: 5 }, t11), 200,
      `{"action":"set","node":{"key":"/t1","value":"v3","expiration":"${exp(t11 + 5000)}","ttl":5,"modifiedIndex":17,"createdIndex":17},"prevNode":${n('/t1', 'v2', 16, 14)}}`],
    ['set without ttl', (s) => s.set('/t1', { value: 'v4' }, t11), 200,
      `{"action":"set","node":${n('/t1', 'v4', 18)},"prevNode":{"key":"/t1","value":"v3","expiration":"${exp(t11 + 5000)}","ttl":5,"modifiedIndex":17,"createdIndex":17}}`],
    ['ttl 0: expiration, no ttl', (s) => s.set('/t2', { value: 'v', ttlSeconds: 0 }, t11), 201,
      `{"action":"set","node":{"key":"/t2","value":"v","expiration":"${exp(t11)}","modifiedIndex":19,"createdIndex":19}}`],
    ['POST with ttl', (s) => s.create('/q', { value: 'j3', ttlSeconds: 50, unique: true }, t11), 201,
      `{"action":"create","node":{"key":"/q/00000000000000000020","value":"j3","expiration":"${exp(t11 + 50_000)}","ttl":50,"modifiedIndex":20,"createdIndex":20}}`],
    ['SYNC expires t2', (s) => s.deleteExpiredKeys(t11 + 400), 0, ''],
    ['expired is gone', (s) => s.get('/t2', {}, t11 + 400), 404, '{"errorCode":100,"message":"Key not found","cause":"/t2","index":21}'],
    ['SYNC expires q/20 then td', (s) => s.deleteExpiredKeys(t11 + 100_300), 0, ''],
    ['cas set', (s, now) => s.set('/c1', { value: 'one' }, now), 201, `{"action":"set","node":${n('/c1', 'one', 24)}}`],
    ['cas value fails', (s, now) => s.compareAndSwap('/c1', 'two', undefined, { value: 'x' }, now), 412,
      '{"errorCode":101,"message":"Compare failed","cause":"[two != one]","index":24}'],
    ['cas index fails', (s, now) => s.compareAndSwap('/c1', undefined, 3, { value: 'x' }, now), 412,
      '{"errorCode":101,"message":"Compare failed","cause":"[3 != 24]","index":24}'],
    ['cas both fail', (s, now) => s.compareAndSwap('/c1', 'two', 3, { value: 'x' }, now), 412,
      '{"errorCode":101,"message":"Compare failed","cause":"[two != one] [3 != 24]","index":24}'],
    ['cas ok', (s, now) => s.compareAndSwap('/c1', 'one', 24, { value: 'x' }, now), 200,
      `{"action":"compareAndSwap","node":${n('/c1', 'x', 25, 24)},"prevNode":${n('/c1', 'one', 24)}}`],
    ['cas prevIndex 0 ignored', (s, now) => s.compareAndSwap('/c1', 'x', 0, { value: 'y' }, now), 200,
      `{"action":"compareAndSwap","node":${n('/c1', 'y', 26, 24)},"prevNode":${n('/c1', 'x', 25, 24)}}`],
    ['cas missing key', (s, now) => s.compareAndSwap('/nokey', 'a', undefined, { value: 'z' }, now), 404,
      '{"errorCode":100,"message":"Key not found","cause":"/nokey","index":26}'],
    ['create existing', (s, now) => s.create('/c1', { value: 'z' }, now), 412,
      '{"errorCode":105,"message":"Key already exists","cause":"/c1","index":26}'],
    ['update missing', (s, now) => s.update('/nokey', { value: 'z' }, now), 404,
      '{"errorCode":100,"message":"Key not found","cause":"/nokey","index":26}'],
  ];
}

describe('replay of an observed etcd 3.4.23 session', () => {
  it('matches status and body at every step', () => {
    const s = freshMember();
    expect(s.index()).toBe(3);
    const t = T0 + 60_000;
    for (const [label, run, status, body] of steps(t)) {
      if (status === 0) { run(s, t); continue; }
      const got = answer(() => run(s, t) as never);
      expect({ label, status: got.status, body: got.body }).toEqual({ label, status, body });
    }
  });
});
