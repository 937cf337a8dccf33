import { describe, expect, it } from 'vitest';
import {
  decodeConfChangeContext, decodeMemberAttributes, encodeConfChangeMember, encodeMemberAttributes, encodePromoteContext, type Member,
} from '../../../src/membership/index.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const member = (over: Partial<Member> = {}): Member => ({ id: 1n, name: '', peerURLs: [], clientURLs: [], isLearner: false, ...over });

describe('member JSON as etcd 3.4 writes it', () => {
  it('writes a bootstrap member as etcd does (test/fixtures/etcd-entries/trio.wal)', () => {
    const m = member({ id: 15347621745088924417n, name: 't3', peerURLs: ['http://127.0.0.1:46221'] });
    expect(text(encodeConfChangeMember(m))).toBe('{"id":15347621745088924417,"peerURLs":["http://127.0.0.1:46221"],"name":"t3"}');
  });

  it('leaves empty fields out (omitempty) but writes peerURLs always, null when none', () => {
    expect(text(encodeConfChangeMember(member({ id: 0xffffffffffffffffn })))).toBe('{"id":18446744073709551615,"peerURLs":null}');
    const all = member({ id: 7n, name: 'a<b>&"c"', peerURLs: ['u1', 'u2'], clientURLs: ['c1'], isLearner: true });
    expect(text(encodeConfChangeMember(all))).toBe('{"id":7,"peerURLs":["u1","u2"],"isLearner":true,"name":"a\\u003cb\\u003e\\u0026\\"c\\"","clientURLs":["c1"]}');
    expect(text(encodePromoteContext(9007199254740993n))).toBe('{"id":9007199254740993,"peerURLs":null,"isPromote":true}');
  });

  it('writes attributes as etcd publishes them', () => {
    expect(encodeMemberAttributes({ name: 'solo', clientURLs: ['http://127.0.0.1:32841'] })).toBe('{"name":"solo","clientURLs":["http://127.0.0.1:32841"]}');
    expect(encodeMemberAttributes({ name: '', clientURLs: [] })).toBe('{}');
  });
});

describe('member JSON as etcd 3.4 reads it', () => {
  it('round-trips every shape, ids above 2^53 exactly', () => {
    for (const m of [
      member({ id: 18446744073709551615n, name: 'x', peerURLs: ['p'], clientURLs: ['c'], isLearner: true }),
      member({ id: 9007199254740993n, peerURLs: ['http://a:1', 'http://b:2'] }),
      member({ id: 0n }),
    ]) {
      expect(decodeConfChangeContext(encodeConfChangeMember(m))).toEqual({ member: m, isPromote: false });
    }
    expect(decodeConfChangeContext(encodePromoteContext(9007199254740993n))).toEqual({ member: member({ id: 9007199254740993n }), isPromote: true });
  });

  it('reads keys in any case and order, skips unknown keys and nulls, keeps the last of a repeated key', () => {
    const got = decodeConfChangeContext(bytes(' {"ID":1,"Name":null,"extra":{"x":[1,2.5e3,"s"]},"PEERURLS":["a",null],"id":12345678901234567890,"isPromote":false} '));
    expect(got).toEqual({ member: member({ id: 12345678901234567890n, peerURLs: ['a', ''] }), isPromote: false });
    expect(decodeMemberAttributes('{"clientURLs":["\\u003c\\ud83d\\ude00\\ud800"],"name":"n\\/"}')).toEqual({ name: 'n/', clientURLs: ['<\u{1f600}\ufffd'] });
  });

  it('refuses what Go refuses', () => {
    for (const bad of [
      '', '[]', '{"id":-1}', '{"id":1.0}', '{"id":1e3}', '{"id":18446744073709551616}', '{"id":"1"}', '{"id":01}',
      '{"peerURLs":"a"}', '{"peerURLs":[1]}', '{"isLearner":1}', '{"name":1}', '{"id":1', '{"id":1}x', '{"a":"\u0001"}', "{'id':1}",
    ]) {
      expect(() => decodeConfChangeContext(bytes(bad)), bad).toThrow();
    }
  });
});
