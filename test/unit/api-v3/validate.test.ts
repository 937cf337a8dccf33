import { describe, expect, it } from 'vitest';
import { checkPeerURLs, checkPut, checkTxn } from '../../../src/api/v3/validate.js';
import type { PutRequest__Output } from '../../../src/pb/etcdserverpb/PutRequest.js';
import type { TxnRequest__Output } from '../../../src/pb/etcdserverpb/TxnRequest.js';
import type { RequestOp__Output } from '../../../src/pb/etcdserverpb/RequestOp.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const put = (key: string, extra: Partial<PutRequest__Output> = {}): PutRequest__Output => ({
  key: b(key), value: b('v'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false, ...extra,
});
const opPut = (key: string): RequestOp__Output => ({ request: 'request_put', request_put: put(key) });
const opDel = (key: string, end = ''): RequestOp__Output => ({
  request: 'request_delete_range', request_delete_range: { key: b(key), range_end: b(end), prev_kv: false },
});
const opRange = (key: string): RequestOp__Output => ({
  request: 'request_range',
  request_range: {
    key: b(key), range_end: b(''), limit: '0', revision: '0', sort_order: 'NONE', sort_target: 'KEY',
    serializable: false, keys_only: false, count_only: false, min_mod_revision: '0', max_mod_revision: '0',
    min_create_revision: '0', max_create_revision: '0',
  },
});
const txn = (success: RequestOp__Output[], failure: RequestOp__Output[] = [], compareKeys: string[] = []): TxnRequest__Output => ({
  compare: compareKeys.map((k) => ({ result: 'EQUAL', target: 'VERSION', key: b(k), range_end: b(''), version: '0' })),
  success,
  failure,
});
const opTxn = (t: TxnRequest__Output): RequestOp__Output => ({ request: 'request_txn', request_txn: t });

describe('put checks', () => {
  it.each([
    ['empty key', put(''), 'EmptyKey'],
    ['ignore_value with a value', put('k', { ignore_value: true }), 'ValueProvided'],
    ['ignore_value without a value', put('k', { ignore_value: true, value: b('') }), undefined],
    ['ignore_lease with a lease', put('k', { ignore_lease: true, lease: '5' }), 'LeaseProvided'],
    ['plain', put('k'), undefined],
  ])('%s', (_name, req, want) => expect(checkPut(req)).toBe(want));
});

describe('txn checks (etcd checkTxnRequest + checkIntervals)', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => opPut(`k${i}`));
  it.each([
    ['128 puts is the limit', txn(many(128)), undefined],
    ['129 puts are too many', txn(many(129)), 'TooManyOps'],
    ['129 compares are too many', txn([], [], Array.from({ length: 129 }, (_, i) => `c${i}`)), 'TooManyOps'],
    ['compare without a key', txn([], [], ['']), 'EmptyKey'],
    ['empty op', txn([{ request: undefined }]), 'KeyNotFound'],
    ['put with empty key inside', txn([opPut('')]), 'EmptyKey'],
    ['same key put twice', txn([opPut('a'), opPut('a')]), 'DuplicateKey'],
    ['same key in success and failure is fine', txn([opPut('a')], [opPut('a')]), undefined],
    ['put inside a deleted range', txn([opDel('a', 'c'), opPut('b')]), 'DuplicateKey'],
    ['put at a range end is outside', txn([opDel('a', 'c'), opPut('c')]), undefined],
    ['put on a deleted single key', txn([opDel('a'), opPut('a')]), 'DuplicateKey'],
    ['two deletes of one key are fine', txn([opDel('a'), opDel('a')]), undefined],
    ['reads never conflict', txn([opRange('a'), opPut('a'), opRange('a')]), undefined],
    ['nested then/else may put the same key', txn([opTxn(txn([opPut('x')], [opPut('x')]))]), undefined],
    ['nested put collides with outer put', txn([opPut('x'), opTxn(txn([opPut('x')]))]), 'DuplicateKey'],
    ['nested put inside outer delete', txn([opDel('a', 'z'), opTxn(txn([], [opPut('m')]))]), 'DuplicateKey'],
    ['nested delete covers an outer put', txn([opTxn(txn([opDel('a', 'z')])), opPut('m')]), 'DuplicateKey'],
    ['two nested txns put the same key', txn([opTxn(txn([opPut('x')])), opTxn(txn([opPut('x')]))]), 'DuplicateKey'],
  ])('%s', (_name, req, want) => expect(checkTxn(req, 128)).toBe(want));
});

describe('member peer URLs (etcd types.NewURLs)', () => {
  it.each([
    [['http://127.0.0.1:2380'], undefined],
    [['https://host.example:2380', 'http://[::1]:2380'], undefined],
    [[], 'MemberBadURLs'],
    [['127.0.0.1:2380'], 'MemberBadURLs'],
    [['ftp://h:1'], 'MemberBadURLs'],
    [['http://h'], 'MemberBadURLs'],
    [['http://h:2380/path'], 'MemberBadURLs'],
    [['http://h:2380/'], 'MemberBadURLs'],
  ])('%j', (urls, want) => expect(checkPeerURLs(urls)).toBe(want));
});
