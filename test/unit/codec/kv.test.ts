// The hand-made KV codecs (src/codec/kv.ts) against protobufjs through proto-loader, the
// serializers they replace: a table of cases plus seeded random ones.
//  - encoders: for objects without explicit zero scalars, byte-identical to protobufjs; with explicit
//    zeros, identical to protobufjs's encoding of the object without them (proto3 zero omission, as
//    etcd writes), and decoding to the same message.
//  - decoders: the same object as proto-loader's deserializer, key order and value types included.
import { describe, expect, it } from 'vitest';
import {
  decodePutRequest,
  decodeRangeRequest,
  decodeTxnRequest,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
} from '../../../src/codec/kv.js';
import { packageDefinition } from '../../../src/api/v3/proto.js';
import { header, int64, keyValue, list, Long, maybe, pick, putReq, rangeReq, rng, sameObject, stripZeros, txnReq, type Method, type Rand } from './codec-random.js';

const kv = packageDefinition()['etcdserverpb.KV'] as unknown as Record<'Range' | 'Put' | 'DeleteRange' | 'Txn', Method>;

function rangeRes(r: Rand): object {
  return { header: maybe(r, () => header(r)), kvs: list(r, 4, keyValue), more: r() < 0.5, count: int64(r) };
}
function putRes(r: Rand): object {
  return { header: maybe(r, () => header(r)), prev_kv: maybe(r, () => keyValue(r)) };
}
function deleteRes(r: Rand): object {
  return { header: maybe(r, () => header(r)), deleted: int64(r), prev_kvs: list(r, 3, keyValue) };
}
function txnRes(r: Rand, depth = 0): object {
  const op = (): object =>
    pick(r, [
      () => ({ response_range: rangeRes(r) }),
      () => ({ response_put: putRes(r) }),
      () => ({ response_delete_range: deleteRes(r) }),
      () => (depth < 3 ? { response_txn: txnRes(r, depth + 1) } : { response_put: {} }),
    ])();
  return { header: maybe(r, () => header(r)), succeeded: r() < 0.5, responses: list(r, 3, op) };
}

const encoders = [
  ['RangeResponse', kv.Range, encodeRangeResponse, rangeRes],
  ['PutResponse', kv.Put, encodePutResponse, putRes],
  ['DeleteRangeResponse', kv.DeleteRange, encodeDeleteRangeResponse, deleteRes],
  ['TxnResponse', kv.Txn, encodeTxnResponse, (r: Rand) => txnRes(r)],
] as const;

function checkEncoding(m: Method, encode: (o: never) => Buffer, obj: object): void {
  const ours = encode(obj as never);
  const theirs = m.responseSerialize(stripZeros(obj) as object);
  if (!ours.equals(theirs)) {
    let i = 0;
    while (ours[i] === theirs[i]) i++;
    const at = (b: Buffer): string => b.subarray(Math.max(0, i - 8), i + 8).toString('hex');
    expect.fail(`${ours.length} vs ${theirs.length} bytes, first difference at ${i}: ${at(ours)} vs ${at(theirs)} in ${JSON.stringify(obj).slice(0, 400)}`);
  }
  expect(m.responseDeserialize(ours)).toEqual(m.responseDeserialize(m.responseSerialize(obj)));
}

describe('kv-codec encoders', () => {
  const big = '10276657743932975437';
  const table: [string, Method, (o: never) => Buffer, object][] = [
    ['empty range', kv.Range, encodeRangeResponse, {}],
    ['range, one kv', kv.Range, encodeRangeResponse, {
      header: { cluster_id: big, member_id: '1', revision: 9, raft_term: 2 },
      kvs: [{ key: Buffer.from('foo'), value: Buffer.from('bar'), create_revision: 4, mod_revision: 8, version: 3, lease: 0 }],
      more: false,
      count: 1,
    }],
    ['range, revisions near 2^53', kv.Range, encodeRangeResponse, {
      header: { revision: 2 ** 53 - 1 },
      kvs: [{ key: Buffer.from([0, 255, 128]), create_revision: 2 ** 53 - 2, mod_revision: 2 ** 53 - 1, version: 2 ** 32 }],
      more: true,
      count: 2 ** 53 - 1,
    }],
    ['range, negative and max leases', kv.Range, encodeRangeResponse, {
      kvs: [{ key: Buffer.from('a'), lease: '-1' }, { key: Buffer.from('b'), lease: -7 }, { key: Buffer.from('c'), lease: '9223372036854775807' }, { key: Buffer.from('d'), lease: '-9223372036854775808' }],
    }],
    ['range, unicode key, large value', kv.Range, encodeRangeResponse, {
      kvs: [{ key: Buffer.from('ключ/🔑'), value: Buffer.alloc(100_000, 7), mod_revision: 1 }],
    }],
    ['put without prev_kv', kv.Put, encodePutResponse, { header: { cluster_id: big, member_id: big, revision: 10, raft_term: 3 } }],
    ['put with prev_kv', kv.Put, encodePutResponse, { header: { revision: 5 }, prev_kv: { key: Buffer.from('k'), value: Buffer.from('v'), create_revision: 1, mod_revision: 4, version: 2 } }],
    ['put with empty prev_kv', kv.Put, encodePutResponse, { header: {}, prev_kv: {} }],
    ['delete', kv.DeleteRange, encodeDeleteRangeResponse, { header: { revision: 7 }, deleted: 2, prev_kvs: [{ key: Buffer.from('x') }, { key: Buffer.from('y'), lease: '-3' }] }],
    ['txn, nested', kv.Txn, encodeTxnResponse, {
      header: { cluster_id: big, member_id: '2', revision: 11, raft_term: 1 },
      succeeded: true,
      responses: [
        { response_put: { header: { revision: 11 } } },
        { response_range: { header: { revision: 11 }, kvs: [{ key: Buffer.from('k'), mod_revision: 11, create_revision: 3, version: 9 }], count: 1 } },
        { response_delete_range: { header: { revision: 11 }, deleted: 0, prev_kvs: [] } },
        { response_txn: { header: { revision: 11 }, succeeded: false, responses: [{ response_txn: { responses: [{ response_range: {} }] } }] } },
      ],
    }],
    ['txn, empty op', kv.Txn, encodeTxnResponse, { responses: [{}] }],
    ['txn, Long revision', kv.Txn, encodeTxnResponse, { header: { revision: Long.fromString('123456789012') } }],
  ];
  it.each(table)('%s', (_name, m, encode, obj) => checkEncoding(m, encode, obj));

  it.each(encoders)('%s: random', (_name, m, encode, gen) => {
    const r = rng(0x5eed + _name.length);
    for (let i = 0; i < 150; i++) checkEncoding(m, encode as (o: never) => Buffer, gen(r));
  });

  it('keeps the cached header ids in step when they change', () => {
    for (const ids of [['1', '2'], ['1', '3'], [big, '3'], [5, 6], ['5', '6']]) {
      checkEncoding(kv.Put, encodePutResponse, { header: { cluster_id: ids[0], member_id: ids[1], revision: 1 } });
    }
  });
});

// ---- decoders ----

const decoders = [
  ['RangeRequest', kv.Range, decodeRangeRequest, rangeReq],
  ['PutRequest', kv.Put, decodePutRequest, putReq],
  ['TxnRequest', kv.Txn, decodeTxnRequest, (r: Rand) => txnReq(r)],
] as const;

describe('kv-codec decoders', () => {
  it.each(decoders)('%s: empty message', (_name, m, decode) => sameObject(decode(Buffer.alloc(0)), m.requestDeserialize(Buffer.alloc(0))));

  it.each(decoders)('%s: random', (name, m, decode, gen) => {
    const r = rng(0xdec0de + name.length);
    for (let i = 0; i < 150; i++) {
      const wire = m.requestSerialize(gen(r));
      const ours = decode(wire) as object;
      sameObject(ours, m.requestDeserialize(wire));
    }
  });

  it('reads negative and 64-bit int64s as signed decimal strings', () => {
    for (const v of ['-1', '-9007199254740991', '-9007199254740992', '-9007199254740993', '9007199254740993', '-9223372036854775808', '9223372036854775807', '4294967296']) {
      const wire = kv.Put.requestSerialize({ key: Buffer.from('k'), lease: v });
      expect((decodePutRequest(wire) as { lease: string }).lease).toBe(v);
      sameObject(decodePutRequest(wire), kv.Put.requestDeserialize(wire));
    }
  });

  it('skips unknown fields and keeps an unknown enum value as a number', () => {
    const known = kv.Range.requestSerialize({ key: Buffer.from('k'), sort_order: 'DESCEND' });
    // field 99 varint, field 100 fixed64, field 101 bytes, field 102 fixed32; sort_target = 9
    const extra = Buffer.from('980601' + 'a106' + '0102030405060708' + 'aa0602abcd' + 'b50601020304' + '3009', 'hex');
    const wire = Buffer.concat([known, extra]);
    sameObject(decodeRangeRequest(wire), kv.Range.requestDeserialize(wire));
    expect((decodeRangeRequest(wire) as { sort_target: unknown }).sort_target).toBe(9);
  });

  it('refuses truncated input as protobufjs does', () => {
    const wire = kv.Put.requestSerialize({ key: Buffer.from('some key'), value: Buffer.from('v') });
    for (let n = 1; n < wire.length; n++) {
      const cut = wire.subarray(0, n);
      let theirs: unknown;
      try {
        theirs = kv.Put.requestDeserialize(cut);
      } catch {
        expect(() => decodePutRequest(cut)).toThrow();
        continue;
      }
      sameObject(decodePutRequest(cut), theirs);
    }
  });

  // On malformed input the two may differ in which junk they still accept (protobufjs reads past a
  // truncated varint; we refuse it), but ours must end with a message or an Error, never hang.
  it.each(decoders)('%s: corrupted messages give a message or an Error', (name, m, decode, gen) => {
    const r = rng(0xbad + name.length);
    for (let i = 0; i < 2000; i++) {
      const wire = Buffer.from(m.requestSerialize(gen(r)));
      for (let j = 0; j < 3; j++) if (wire.length > 0) wire[Math.floor(r() * wire.length)] = Math.floor(r() * 256);
      let out: unknown;
      try {
        out = decode(wire);
      } catch (e) {
        out = e;
      }
      expect(out !== null && typeof out === 'object').toBe(true);
    }
  });
});
