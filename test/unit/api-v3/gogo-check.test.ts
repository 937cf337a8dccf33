// gogo-check.ts: which request bytes etcd's decoder refuses, and its words. Every expectation below
// is what etcd 3.4.23 answered to the same bytes (after "grpc: error unmarshalling request: "),
// seen on 2026-12-06 by sending them as the message of a unary call.
import { describe, expect, it } from 'vitest';
import { GogoRules, goCamelCase } from '../../../src/api/v3/gogo-check.js';
import { packageDefinition } from '../../../src/api/v3/proto.js';

const rules = new GogoRules(packageDefinition());
const check = (message: string, hex: string): string | undefined => rules.checker(message)(Buffer.from(hex, 'hex'));

const PUT = 'etcdserverpb.PutRequest';
const observed: [string, string, string | undefined][] = [
  // message, bytes, etcd's text (undefined: taken)
  [PUT, '0a036b6579120176', undefined],
  [PUT, '7b0c', undefined], // an unknown group, skipped
  [PUT, 'ffffffff0f00', 'proto: illegal wireType 7'],
  [PUT, '0a0561', 'unexpected EOF'],
  [PUT, 'ffffff', 'unexpected EOF'],
  [PUT, '0b', 'proto: wrong wireType = 3 for field Key'],
  [PUT, '0800', 'proto: wrong wireType = 0 for field Key'],
  [PUT, '0d', 'proto: wrong wireType = 5 for field Key'],
  [PUT, '0e', 'proto: wrong wireType = 6 for field Key'],
  [PUT, '0f01', 'proto: wrong wireType = 7 for field Key'],
  [PUT, '1a', 'proto: wrong wireType = 2 for field Lease'],
  [PUT, '0000', 'proto: PutRequest: illegal tag 0 (wire type 0)'],
  [PUT, '02', 'proto: PutRequest: illegal tag 0 (wire type 2)'],
  [PUT, '80808080808080808001', 'proto: PutRequest: illegal tag 0 (wire type 9223372036854775808)'],
  [PUT, 'f8ffffffffffffffff0100', 'proto: PutRequest: illegal tag -1 (wire type 18446744073709551608)'],
  [PUT, '7c', 'proto: PutRequest: wiretype end group for non-group'],
  [PUT, '7e', 'proto: illegal wireType 6'],
  [PUT, '7f', 'proto: illegal wireType 7'],
  [PUT, '7a05', 'unexpected EOF'],
  [PUT, '7b', 'unexpected EOF'],
  [PUT, '7b7b', 'unexpected EOF'],
  [PUT, '7b7b7c', 'unexpected EOF'],
  [PUT, '7b037c', 'unexpected EOF'],
  [PUT, '7d', 'unexpected EOF'],
  [PUT, '1880', 'unexpected EOF'],
  [PUT, '18ffffffffffffffffffff01', 'proto: integer overflow'],
  [PUT, '8080808080808080808001', 'proto: integer overflow'],
  [PUT, '0affffffffffffffffff01', 'proto: negative length found during unmarshaling'],
  [PUT, '0a8080808080808080807f', 'proto: negative length found during unmarshaling'],
  [PUT, '3affffffffffffffff7f', 'proto: negative length found during unmarshaling'],
  [PUT, '3aff', 'unexpected EOF'],
  ['etcdserverpb.TxnRequest', '1202', 'unexpected EOF'],
  ['etcdserverpb.TxnRequest', '1204120208', 'unexpected EOF'],
  ['etcdserverpb.TxnRequest', '12041202080a', 'proto: wrong wireType = 0 for field Key'],
  ['etcdserverpb.TxnRequest', '12041202000a', 'proto: PutRequest: illegal tag 0 (wire type 0)'],
  ['etcdserverpb.TxnRequest', '0a0208ff', 'unexpected EOF'],
  ['etcdserverpb.TxnRequest', '0a020a01', 'proto: wrong wireType = 2 for field Result'],
  ['etcdserverpb.TxnRequest', '0a03220100', 'proto: wrong wireType = 2 for field Version'],
  ['etcdserverpb.TxnRequest', '0a0320017f', 'proto: illegal wireType 7'],
  ['etcdserverpb.RangeRequest', '2001', undefined],
  ['etcdserverpb.RangeRequest', '0a01', 'unexpected EOF'],
  ['etcdserverpb.RangeRequest', '2a00', 'proto: wrong wireType = 2 for field SortOrder'],
  ['etcdserverpb.RangeRequest', '0a017810ff', 'proto: wrong wireType = 0 for field RangeEnd'],
  ['etcdserverpb.LeaseGrantRequest', '0801100a1a', 'unexpected EOF'],
  ['etcdserverpb.LeaseGrantRequest', '0a01', 'proto: wrong wireType = 2 for field TTL'],
  ['etcdserverpb.AlarmRequest', '0a', 'proto: wrong wireType = 2 for field Action'],
  ['etcdserverpb.MemberAddRequest', '0a0161120162', 'proto: wrong wireType = 2 for field IsLearner'],
  ['etcdserverpb.MemberAddRequest', '0801', 'proto: wrong wireType = 0 for field PeerURLs'],
  ['etcdserverpb.AuthRoleGrantPermissionRequest', '0a0172120408010a', 'unexpected EOF'],
  ['v3lockpb.LockRequest', '0801', 'proto: wrong wireType = 0 for field Name'],
];

describe('etcd\'s request decoder (gogo/protobuf) as gogo-check reads it', () => {
  it.each(observed)('%s %s: %s', (message, hex, text) => {
    expect(check(message, hex)).toBe(text);
  });

  it('takes repeated numbers packed or not (WatchCreateRequest filters), as gogo does', () => {
    const W = 'etcdserverpb.WatchCreateRequest';
    expect(check(W, '0a016b28012801')).toBeUndefined();
    expect(check(W, '0a016b2a020001')).toBeUndefined();
    expect(check(W, '2a0280')).toBe('unexpected EOF');
    expect(check(W, '2d')).toBe('proto: wrong wireType = 5 for field Filters');
    expect(check('etcdserverpb.WatchRequest', '0a042a020001')).toBeUndefined();
    expect(check('etcdserverpb.WatchRequest', '0a032a0280')).toBe('unexpected EOF');
  });

  it('names Go fields as protoc-gen-gogo does', () => {
    expect(['key', 'range_end', 'prev_kv', 'ID', 'TTL', 'peerURLs', 'isLearner', 'request_delete_range', '_x', 'a_1b'].map(goCamelCase))
      .toEqual(['Key', 'RangeEnd', 'PrevKv', 'ID', 'TTL', 'PeerURLs', 'IsLearner', 'RequestDeleteRange', 'XX', 'A_1B']);
  });
});
