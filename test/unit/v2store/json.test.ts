import { describe, expect, it } from 'vitest';
import {
  V2Error, V2ErrorCode, V2ErrorMessages, formatRfc3339Nano, goJsonString, serializeNode, ttlSecondsLeft, etcdExpirationMs, MIN_EXPIRE_MS,
  v2ErrorHttpStatus, cleanPath, internalPath,
} from '../../../src/v2store/index.js';

describe('Go-compatible JSON', () => {
  it.each([
    ['plain', '"plain"'],
    // observed: value=<a&b> "q" \ é <TAB>tab
    ['<a&b> "q" \\ é \ttab', '"\\u003ca\\u0026b\\u003e \\"q\\" \\\\ é \\ttab"'],
    // observed: x\b y\f z\x01 DEL U+2028 → DEL is not escaped
    ['x\by\fz\u0001\u007f\u2028', '"x\\u0008y\\u000cz\\u0001\u007f\\u2028"'],
    ['a\ud800b', '"a\\ufffdb"'],
    ['emoji \u{1f600}', '"emoji \u{1f600}"'],
    ['line\nret\r', '"line\\nret\\r"'],
  ])('escapes %j as Go does', (input, want) => {
    expect(goJsonString(input)).toBe(want);
  });

  it('writes node fields in etcd order and leaves empties out', () => {
    expect(serializeNode({ createdIndex: 12, modifiedIndex: 12, nodes: [{ key: '/td/x', value: '1',
      modifiedIndex: 13, createdIndex: 13 }], ttl: 100, expiration: '2026-11-22T04:51:00.735Z', dir: true, key: '/td' }))
      .toBe('{"key":"/td","dir":true,"expiration":"2026-11-22T04:51:00.735Z","ttl":100,"nodes":[{"key":"/td/x",'
        + '"value":"1","modifiedIndex":13,"createdIndex":13}],"modifiedIndex":12,"createdIndex":12}');
    expect(serializeNode({ key: '', dir: true, nodes: [], modifiedIndex: 0, createdIndex: 0 })).toBe('{"dir":true}');
    expect(serializeNode({ key: '/e', value: '', ttl: 0, modifiedIndex: 1, createdIndex: 1 }))
      .toBe('{"key":"/e","value":"","modifiedIndex":1,"createdIndex":1}');
  });

  it('formats expiration as Go RFC3339Nano in UTC', () => {
    const ms = Date.UTC(2026, 10, 22, 4, 51, 0, 690);
    expect(formatRfc3339Nano(ms)).toBe('2026-11-22T04:51:00.69Z');
    expect(formatRfc3339Nano(ms - 690)).toBe('2026-11-22T04:51:00Z');
    expect(formatRfc3339Nano(ms + 0.5)).toBe('2026-11-22T04:51:00.6905Z');
    expect(formatRfc3339Nano(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 7)).getTime())).toBe('2026-01-02T03:04:05.007Z');
  });

  it('computes a ttl\'s expiration with Go\'s wrapping int64 nanoseconds (observed on etcd 3.4.23)', () => {
    const now = Date.UTC(2026, 11, 2, 3, 5, 8, 550);
    expect(etcdExpirationMs(now, 100)).toBe(now + 100_000);
    expect(etcdExpirationMs(now, 7_000_000_000)).toBe(now + 7_000_000_000_000); // 2248, no overflow
    expect(etcdExpirationMs(now, 18446744073709551615n)).toBe(now - 1000); // Duration(uint64 max) = -1 ns * 1e9
    // etcd answered an update with ttl=99999999999 by expiration 1688-06-19T15:24:26.233316356Z
    const expNs = BigInt(Date.UTC(1688, 5, 19, 15, 24, 26, 233)) * 1_000_000n + 316356n;
    const then = Number((expNs + 2n ** 64n - 7766279630452241920n) / 1_000_000n); // Duration(99999999999 s) wraps to 7766279630452241920 ns
    expect(formatRfc3339Nano(etcdExpirationMs(then, 99999999999)).slice(0, 22)).toBe('1688-06-19T15:24:26.23'); // (now is whole ms)
    expect(etcdExpirationMs(now, 7_500_000_000)).toBeLessThan(MIN_EXPIRE_MS); // UnixNano past 2262 wraps
    // an expiration in 1688 shows ttl -9223372036: Go's Time.Sub saturates
    expect(ttlSecondsLeft(etcdExpirationMs(now, 99999999999), now)).toBe(-9223372036);
  });

  it('rounds ttl up while time is left and truncates once past', () => {
    expect(ttlSecondsLeft(100_000, 0)).toBe(100);
    expect(ttlSecondsLeft(100_000, 1)).toBe(100);
    expect(ttlSecondsLeft(100_000, 999)).toBe(100);
    expect(ttlSecondsLeft(100_000, 1000)).toBe(99);
    expect(ttlSecondsLeft(100_000, 100_000)).toBe(0);
    expect(ttlSecondsLeft(100_000, 100_500)).toBe(0);
    expect(ttlSecondsLeft(100_000, 102_500)).toBe(-2);
  });
});

describe('v2 error table', () => {
  it('has etcd codes, messages and HTTP statuses', () => {
    expect(Object.keys(V2ErrorMessages).length).toBe(32);
    const statuses = Object.keys(V2ErrorMessages).map((c) => [Number(c), v2ErrorHttpStatus(Number(c))]);
    expect(statuses.filter(([, s]) => s !== 400)).toEqual([[100, 404], [101, 412], [102, 403], [105, 412],
      [108, 403], [110, 401], [300, 500], [301, 500]]);
    expect(V2ErrorMessages[202]).toBe('The given TTL in POST form is not a number');
    expect(V2ErrorMessages[401]).toBe('The event in requested index is outdated and cleared');
    expect(V2ErrorMessages[209]).toBe('Invalid field');
    expect(V2ErrorMessages[210]).toBe('Invalid POST form');
  });

  it('serializes the body in etcd field order, cause omitted when empty', () => {
    const e = new V2Error(V2ErrorCode.KeyNotFound, '/foo', 5);
    expect(e.serialize()).toBe('{"errorCode":100,"message":"Key not found","cause":"/foo","index":5}');
    expect(JSON.stringify(e)).toBe(e.serialize());
    const noCause = new V2Error(V2ErrorCode.NotFile, '', 1080);
    expect(noCause.serialize()).toBe('{"errorCode":102,"message":"Not a file","index":1080}');
    expect(JSON.stringify(noCause)).toBe(noCause.serialize());
    expect(new V2Error(V2ErrorCode.TTLNaN, 'invalid value for "ttl"').serialize())
      .toBe('{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}');
    expect(() => new V2Error(999)).toThrow(/unknown/);
  });
});

describe('key cleaning', () => {
  it.each([
    ['foo', '/foo'], ['/foo/', '/foo'], ['//n1//a/../b/', '/n1/b'], ['/n1/./c', '/n1/c'], ['/', '/'], ['', '/'],
    ['/../..', '/'],
  ])('cleans %j to %j', (key, want) => {
    expect(cleanPath(key)).toBe(want);
  });
  it('never lets a user key leave /1', () => {
    expect(internalPath('/../0/members')).toBe('/1/0/members');
    expect(internalPath('/')).toBe('/1');
  });
});
