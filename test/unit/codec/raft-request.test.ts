// The hand-made codec of the replicated request's hot writes (src/codec/raft-request.ts) against
// protobufjs, which encodes and decodes every other InternalRaftRequest (proto/raft_internal.proto):
//  - what we write, protobufjs reads as the same message as what it writes itself;
//  - what we read (our bytes, or protobufjs's with its explicit zeros) is the object protobufjs's
//    toObject gives, key order and value types included;
//  - anything else on the wire reads as undefined, so the caller falls back to protobufjs.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeRaftWrite, encodeRaftWrite, type RaftWrite } from '../../../src/codec/raft-request.js';
import { deleteReq, pick, putReq, rng, sameObject, txnReq, type Rand } from './codec-random.js';

const protoDir = fileURLToPath(new URL('../../../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => `${protoDir}${target.replace(/^.*\//, '')}`;
root.loadSync('raft_internal.proto', { keepCase: true });
const Request = root.lookupType('etcdserverpb.InternalRaftRequest');
const TO_OBJECT = { longs: String, enums: String, bytes: Buffer, defaults: true, arrays: true, oneofs: true };

const theirEncode = (o: object): Buffer => Buffer.from(Request.encode(Request.fromObject(o)).finish());
const theirDecode = (b: Uint8Array): Record<string, unknown> => Request.toObject(Request.decode(b), TO_OBJECT);

function uint64(r: Rand): string {
  return pick(r, ['0', '1', String(Math.floor(r() * 2 ** 32)), '9007199254740993', '9223372036854775808', '18446744073709551615', '10276657743932975437']);
}

function write(r: Rand): RaftWrite {
  const header = r() < 0.3 ? { ID: uint64(r), auth_revision: uint64(r) } : { ID: uint64(r) };
  return pick(r, [
    () => ({ header, put: putReq(r) }),
    () => ({ header, delete_range: deleteReq(r) }),
    () => ({ header, txn: txnReq(r) }),
  ])() as RaftWrite;
}

/** The write's fields of a decoded request, as protobufjs gives them. */
function expectSameWrite(ours: RaftWrite | undefined, theirs: Record<string, unknown>): void {
  expect(ours).toBeDefined();
  sameObject(ours!.header, theirs.header);
  for (const k of ['put', 'delete_range', 'txn'] as const) {
    if (theirs[k] === null) expect(ours![k]).toBeUndefined();
    else sameObject(ours![k], theirs[k]);
  }
}

describe('raft-request codec', () => {
  it('writes what protobufjs reads as its own encoding of the same request', () => {
    const r = rng(0x1a2b);
    for (let i = 0; i < 200; i++) {
      const w = write(r);
      expect(theirDecode(encodeRaftWrite(w))).toEqual(theirDecode(theirEncode(w)));
    }
  });

  it('reads our bytes and protobufjs bytes as protobufjs does', () => {
    const r = rng(0x3c4d);
    for (let i = 0; i < 200; i++) {
      const w = write(r);
      for (const data of [encodeRaftWrite(w), theirEncode(w)]) expectSameWrite(decodeRaftWrite(data), theirDecode(data));
    }
  });

  it('leaves zero scalars out, as etcd does, where protobufjs writes the zeros it is given', () => {
    const w = { header: { ID: '5' }, put: { key: Buffer.from('k'), value: Buffer.from('v'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false } };
    expect(encodeRaftWrite(w).toString('hex')).toBe('2206' + '0a016b' + '120176' + 'a206' + '02' + '0805');
    expect(theirEncode(w).length).toBe(encodeRaftWrite(w).length + 8);
  });

  it('writes a oneof member that is zero, and a compare range_end (field 64, two-byte tag)', () => {
    const compare = { result: 'EQUAL', target: 'MOD', key: Buffer.from('k'), mod_revision: '0', range_end: Buffer.from('l') };
    const w = { header: { ID: '1' }, txn: { compare: [compare], success: [{ request_put: {} }], failure: [] } } as unknown as RaftWrite;
    const data = encodeRaftWrite(w);
    expect(data.toString('hex')).toBe('3211' + '0a0b' + '1002' + '1a016b' + '3000' + '8204016c' + '1202' + '1200' + 'a206' + '02' + '0801');
    expectSameWrite(decodeRaftWrite(data), theirDecode(data));
  });

  it('reads anything but a header and one write as undefined, for protobufjs to decode', () => {
    const put = { key: Buffer.from('k') };
    const cases: Array<[string, Buffer]> = [
      ['a v2 request', theirEncode({ header: { ID: '1' }, v2: { Method: 'PUT' } })],
      ['a compaction', theirEncode({ header: { ID: '1' }, compaction: { revision: 5 } })],
      ['a put and a txn', theirEncode({ header: { ID: '1' }, put, txn: {} })],
      ['a header alone', theirEncode({ header: { ID: '1' } })],
      ['an unknown field', Buffer.concat([theirEncode({ header: { ID: '1' }, put }), Buffer.from('f80601', 'hex')])],
      ['an unknown header field', Buffer.from('2203' + '0a016b' + 'a206' + '04' + '0801' + '2001', 'hex')],
      ['a truncated put', theirEncode({ header: { ID: '1' }, put: { key: Buffer.from('key') } }).subarray(0, 4)],
      ['nothing', Buffer.alloc(0)],
    ];
    for (const [what, data] of cases) expect(decodeRaftWrite(data), what).toBeUndefined();
  });

  it('reads the header of an authenticated request (username, auth revision) as protobufjs does', () => {
    const data = theirEncode({ header: { ID: '7', username: 'alice', auth_revision: '12' }, put: { key: Buffer.from('k'), value: Buffer.from('v') } });
    expectSameWrite(decodeRaftWrite(data), theirDecode(data));
    expect(decodeRaftWrite(data)!.header).toEqual({ ID: '7', username: 'alice', auth_revision: '12' });
    const ours = encodeRaftWrite({ header: { ID: '7', username: 'alice', auth_revision: '12' }, put: { key: Buffer.from('k'), value: Buffer.from('v') } } as unknown as RaftWrite);
    expect(ours.equals(data)).toBe(true);
  });

  it('reads a repeated header or write as protobufjs does: the last one', () => {
    const a = theirEncode({ header: { ID: '1' }, put: { key: Buffer.from('a') } });
    const b = theirEncode({ header: { ID: '2' }, put: { key: Buffer.from('b') } });
    const data = Buffer.concat([a, b]);
    expectSameWrite(decodeRaftWrite(data), theirDecode(data));
    expect(decodeRaftWrite(data)!.header.ID).toBe('2');
  });
});

describe('64-bit decimal ids', () => {
  it('encode as protobufjs encodes them, every length up to 20 digits and past 2^64', () => {
    const r = rng(0x64b17);
    const digits = (n: number): string => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + Math.floor(r() * 9) : Math.floor(r() * 10))).join('');
    const ids = ['9007199254740992', '9007199254740993', '18446744073709551615', '18446744073709551616', '99999999999999999999', '10000000000000000000', '0000000000000000001'];
    for (let i = 0; i < 1000; i++) ids.push(digits(1 + Math.floor(r() * 20)));
    for (const ID of ids) {
      const w = { header: { ID }, put: { key: Buffer.from('k'), lease: ID } } as unknown as RaftWrite;
      // decoded, not bytes: 2^64 wraps to 0, which protobufjs writes and we leave out
      expect(theirDecode(encodeRaftWrite(w)), ID).toEqual(theirDecode(theirEncode(w)));
    }
  });
});
