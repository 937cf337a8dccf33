// etcdserverpb.Request by hand (src/codec/v2-request.ts) and gogoproto's decision between it and an
// InternalRaftRequest (scanInternalRaftRequest in src/codec/raft-request.ts).
import { describe, expect, it } from 'vitest';
import { encodeRaftWrite, scanInternalRaftRequest } from '../../../src/codec/raft-request.js';
import { decodeV2Request, encodeV2Request, GogoDecodeError, newV2Request, type V2Request } from '../../../src/codec/v2-request.js';
import { pick, rng, type Rand } from './codec-random.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// etcd 3.4.23's own bytes (test/fixtures/etcd-entries/solo.wal, entries 3, 31 and 45)
const PUBLISH = '0882c6ccecd7c9e8d07912035055541a262f302f6d656d626572732f633836303663383537366134373961312f6174747269627574657322377b226e616d65223a22736f6c6f222c22636c69656e7455524c73223a5b22687474703a2f2f3132372e302e302e313a3430393237225d7d2800320038004800500058006000680070007800800100';
const REFRESH = '08a8c6ccecd7c9e8d07912035055541a0a2f312f6469722f74746c220028003200380040014897ccf2979ab9df8936500058006000680070007800800100880101';
const FLAGS = '08c4c6ccecd7c9e8d07912035055541a082f312f666c6167732201772800320038004800500058076000680170017800800101880100';

describe('etcdserverpb.Request codec', () => {
  it('writes etcd\'s bytes: every non-nullable field even when zero, PrevExist and Refresh only when set', () => {
    const id = decodeV2Request(hex(PUBLISH)).ID;
    const publish = newV2Request({ ID: id, Method: 'PUT', Path: '/0/members/c8606c8576a479a1/attributes', Val: '{"name":"solo","clientURLs":["http://127.0.0.1:40927"]}' });
    expect(encodeV2Request(publish).toString('hex')).toBe(PUBLISH);
    const refresh = decodeV2Request(hex(REFRESH));
    expect(refresh).toMatchObject({ Method: 'PUT', Path: '/1/dir/ttl', PrevExist: true, Refresh: true, Val: '' });
    expect(refresh.Expiration).toBeGreaterThan(3_800_000_000_000_000_000n); // 2090s, in unix ns
    expect(encodeV2Request(refresh).toString('hex')).toBe(REFRESH);
    const flags = decodeV2Request(hex(FLAGS));
    expect(flags).toMatchObject({ Path: '/1/flags', Val: 'w', Since: 7n, Sorted: true, Quorum: true, Stream: true, Refresh: false, Recursive: false });
    expect(flags.PrevExist).toBeUndefined();
    expect(encodeV2Request(flags).toString('hex')).toBe(FLAGS);
  });

  it('round-trips every field, 64-bit values at their extremes, text of every kind', () => {
    const r = rng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const req = randomRequest(r);
      expect(decodeV2Request(encodeV2Request(req))).toEqual(req);
    }
  });

  it('reads as gogoproto does: any order, the last of a repeated field, unknown fields and groups skipped', () => {
    // Path "/b" then Method "PUT", Dir 1 as a 10-byte varint, an unknown field 40 (length 2), a group 41, Path "/c"
    const data = hex('1a022f62 1203505554 28 81808080808080808000 c202026162 cb02 0801 cc02 1a022f63');
    expect(decodeV2Request(data)).toEqual(newV2Request({ Method: 'PUT', Path: '/c', Dir: true }));
    // a varint's bits past 64 are dropped: Dir set only by bit 64 reads false
    expect(decodeV2Request(hex('28 80808080808080808002')).Dir).toBe(false);
    expect(decodeV2Request(hex('48 ffffffffffffffffff01')).Expiration).toBe(-1n);
  });

  it('refuses what gogoproto refuses', () => {
    const bad: Array<[string, string]> = [
      ['a string field as a varint', '1001'],
      ['a varint field as bytes', '0a00'],
      ['a truncated string', '1205505554'],
      ['a truncated varint', '08ff'],
      ['an 11-byte varint', '08ffffffffffffffffffff01'],
      ['field 0', '0001'],
      ['an end group', '0c'],
      ['wire type 6', '0e'],
      ['a truncated unknown fixed64', 'c9020102'],
      ['an unterminated group', 'cb020801'],
      ['a length past 2^63 (negative as a Go int)', '12ffffffffffffffffff01'],
    ];
    for (const [what, data] of bad) expect(() => decodeV2Request(hex(data)), what).toThrow(GogoDecodeError);
  });
});

describe('InternalRaftRequest or bare Request (gogoproto\'s decision)', () => {
  it('refuses every bare Request, whatever its Method, Path and Val parse as', () => {
    const r = rng(0xbad);
    for (let i = 0; i < 3000; i++) {
      const req = randomRequest(r);
      expect(scanInternalRaftRequest(encodeV2Request(req)), JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBeUndefined();
    }
    for (const data of [PUBLISH, REFRESH, FLAGS]) expect(scanInternalRaftRequest(hex(data))).toBeUndefined();
  });

  it('takes every InternalRaftRequest etcd writes, and finds a v2 field inside one', () => {
    const put = encodeRaftWrite({ header: { ID: '18446744073709551615' }, put: { key: Buffer.from('k'), value: Buffer.from('v') } as never });
    expect(scanInternalRaftRequest(put)).toEqual({});
    expect(scanInternalRaftRequest(hex('220b0a046c61737412036f6e65a2060b08cabae3e2d5c9a8dab001'))).toEqual({}); // etcd's put last=one
    expect(scanInternalRaftRequest(hex('5200a2060b089bbae3e2d5c9a8dab001'))).toEqual({}); // etcd's alarm list
    // etcd with --client-cert-auth writes the certificate's CN and the auth revision in the header
    const certPut = hex('2206 0a016b 120176 a206 13 08cabae3e2d5c9a8dab001 1204726f6f74 1801');
    expect(scanInternalRaftRequest(certPut)).toEqual({});
    expect(scanInternalRaftRequest(hex('5200 a206 08 0801 1204726f6f74'))).toEqual({}); // the username last
    const v2 = encodeV2Request(newV2Request({ ID: 5n, Method: 'PUT', Path: '/1/a' }));
    const wrapped = Buffer.concat([hex('0807'), Buffer.from([0x12, v2.length]), v2, hex('a2060208 01')]);
    expect(scanInternalRaftRequest(wrapped)).toEqual({ v2: { start: 4, end: 4 + v2.length } });
    // unknown fields (99 varint, 200 bytes, 300 group) are skipped; the auth fields are messages
    expect(scanInternalRaftRequest(hex('9806 01 c20c 0161 e3120801e412 c23e00'))).toEqual({});
  });

  it('refuses what gogoproto refuses at the top level, in the header and in a v2 field', () => {
    for (const data of ['2001' /* put as a varint */, '0a00' /* ID as bytes */, 'a20602' /* truncated header */, 'a206021001' /* username as a varint */,
      '12021001' /* v2 with Method as a varint */, 'c03e01' /* auth_enable as a varint */, 'c23e08' /* truncated auth_enable */, '00']) {
      expect(scanInternalRaftRequest(hex(data)), data).toBeUndefined();
    }
  });
});

function randomRequest(r: Rand): V2Request {
  const u64 = (): bigint => pick(r, [0n, 1n, 127n, 128n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(Math.floor(r() * 2 ** 40))]);
  const i64 = (): bigint => BigInt.asIntN(64, u64());
  const text = (): string => pick(r, ['', 'PUT', 'QGET', 'SYNC', 'DELETE', '/1/a', '\u0000\u0001\u00ff', 'é☃\u{1f600}', 'x'.repeat(200), String.fromCharCode(...Array.from({ length: 6 }, () => Math.floor(r() * 128)))]);
  const opt = (): boolean | undefined => pick(r, [undefined, true, false]);
  const req = newV2Request({
    ID: u64(), Method: text(), Path: text(), Val: text(), Dir: r() < 0.5, PrevValue: text(), PrevIndex: u64(), Expiration: i64(), Wait: r() < 0.5,
    Since: u64(), Recursive: r() < 0.5, Sorted: r() < 0.5, Quorum: r() < 0.5, Time: i64(), Stream: r() < 0.5,
  });
  const prevExist = opt();
  const refresh = opt();
  if (prevExist !== undefined) req.PrevExist = prevExist;
  if (refresh !== undefined) req.Refresh = refresh;
  return req;
}
