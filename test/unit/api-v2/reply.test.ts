import { describe, expect, it } from 'vitest';
import { escapePath, goHeaders, httpDate } from '../../../src/api/v2/reply.js';

describe('the Date header', () => {
  it('is the RFC 1123 GMT time of the current second, formatted again when the second changes', () => {
    const t = Date.UTC(2026, 11, 1, 23, 59, 59, 999);
    expect(httpDate(t)).toBe('Tue, 01 Dec 2026 23:59:59 GMT');
    expect(httpDate(t - 998)).toBe('Tue, 01 Dec 2026 23:59:59 GMT');
    expect(httpDate(t + 1)).toBe('Wed, 02 Dec 2026 00:00:00 GMT');
    expect(httpDate(t)).toBe('Tue, 01 Dec 2026 23:59:59 GMT'); // a clock that steps back is followed too
  });
});

describe("a redirect's path, escaped as Go's URL.EscapedPath", () => {
  it.each([
    ['/v2/keys/a b', '/v2/keys/a%20b'],
    ['/v2/keys/é/ключ', '/v2/keys/%C3%A9/%D0%BA%D0%BB%D1%8E%D1%87'],
    ['/v2/keys/%41?#', '/v2/keys/%2541%3F%23'],
    ['/v2/keys/~$&+,/:;=@-_.', '/v2/keys/~$&+,/:;=@-_.'],
    ['/v2/keys/🔑\u0000\t"<>\\^`{|}', '/v2/keys/%F0%9F%94%91%00%09%22%3C%3E%5C%5E%60%7B%7C%7D'],
  ])('%j -> %j', (path, escaped) => expect(escapePath(path)).toBe(escaped));
});

describe("a reply's headers as Go writes them", () => {
  it('are canonical, sorted, the later of two same names kept, undefined ones left out, whatever was seen before', () => {
    const extra = { 'X-Etcd-Index': '7', 'Content-Type': 'application/json' };
    const first = goHeaders({ 'x-etcd-cluster-id': 'a1', 'access-control-allow-origin': '*', 'x-etcd-index': '1' }, extra);
    expect(Object.entries(first)).toEqual([
      ['Access-Control-Allow-Origin', '*'], ['Content-Type', 'application/json'], ['X-Etcd-Cluster-Id', 'a1'], ['X-Etcd-Index', '7'],
    ]);
    // the same names again, other values: the same order, the new values
    const again = goHeaders({ 'x-etcd-cluster-id': 'b2', 'access-control-allow-origin': 'x', 'x-etcd-index': '2' }, { ...extra, 'X-Etcd-Index': '8' });
    expect(Object.entries(again)).toEqual([
      ['Access-Control-Allow-Origin', 'x'], ['Content-Type', 'application/json'], ['X-Etcd-Cluster-Id', 'b2'], ['X-Etcd-Index', '8'],
    ]);
    // a name set to undefined is another set of names
    const without = goHeaders({ 'x-etcd-cluster-id': undefined, 'access-control-allow-origin': '*', 'x-etcd-index': '1' }, extra);
    expect(Object.entries(without)).toEqual([
      ['Access-Control-Allow-Origin', '*'], ['Content-Type', 'application/json'], ['X-Etcd-Index', '7'],
    ]);
    expect(goHeaders({ allow: 'GET' })).toEqual({ Allow: 'GET' });
  });
});
