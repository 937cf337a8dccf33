/** etcdserverpb.KV: validation as etcd's v3rpc key server, then the facade. */
import type { EtcdServerFacade } from '../../server/facade.js';
import type { KVHandlers } from '../../pb/etcdserverpb/KV.js';
import type { TxnRequest__Output } from '../../pb/etcdserverpb/TxnRequest.js';
import type { RequestOp__Output } from '../../pb/etcdserverpb/RequestOp.js';
import type { RangeRequest__Output } from '../../pb/etcdserverpb/RangeRequest.js';
import { type ApiLimits, isOversized, sizeGuard, unary } from './common.js';
import { SENT_EMPTY } from '../../codec/kv.js';
import { checkDelete, checkPut, checkRange, checkTxn } from './validate.js';

/** A txn with no put/delete anywhere is served like a Range (never goes through raft). */
function isTxnReadOnly(ops: readonly RequestOp__Output[]): boolean {
  for (const op of ops) {
    if (op.request === 'request_put' || op.request === 'request_delete_range') return false;
    if (op.request === 'request_txn' && !(isTxnReadOnly(op.request_txn!.success) && isTxnReadOnly(op.request_txn!.failure))) {
      return false;
    }
  }
  return true;
}

const FROM_KEY = Buffer.from([0]);

/**
 * etcd serves a Range and a read-only Txn from the request as decoded, where a range_end sent as a
 * zero-length field (Go clients leave it out) is a non-nil empty slice: every key from `key` on, as
 * "\0". A request that goes through raft is marshalled again first, which drops it (one key); so does
 * etcd's JSON gateway.
 */
function rangeAsServed(r: RangeRequest__Output): RangeRequest__Output {
  if (r.range_end === SENT_EMPTY) r.range_end = FROM_KEY;
  return r;
}

function readOnlyTxnAsServed(t: TxnRequest__Output): TxnRequest__Output {
  for (const c of t.compare) if (c.range_end === SENT_EMPTY) c.range_end = FROM_KEY;
  for (const op of [...t.success, ...t.failure]) {
    if (op.request_range) rangeAsServed(op.request_range);
    else if (op.request_txn) readOnlyTxnAsServed(op.request_txn);
  }
  return t;
}

function txnAsServed(t: TxnRequest__Output): TxnRequest__Output {
  return isTxnReadOnly(t.success) && isTxnReadOnly(t.failure) ? readOnlyTxnAsServed(t) : t;
}

function txnTooLarge(r: TxnRequest__Output): boolean {
  return isOversized(r) && !(isTxnReadOnly(r.success) && isTxnReadOnly(r.failure));
}

export function kvHandlers(facade: EtcdServerFacade, limits: ApiLimits): KVHandlers {
  return {
    Range: unary((r, ctx) => facade.range(rangeAsServed(r), ctx), checkRange),
    Put: unary(
      (r, ctx) => facade.put(r, ctx),
      (r) => checkPut(r) ?? (isOversized(r) ? 'RequestTooLarge' : undefined),
    ),
    DeleteRange: unary(
      (r, ctx) => facade.deleteRange(r, ctx),
      (r) => checkDelete(r) ?? (isOversized(r) ? 'RequestTooLarge' : undefined),
    ),
    Txn: unary(
      (r, ctx) => facade.txn(txnAsServed(r), ctx),
      (r) => checkTxn(r, limits.maxTxnOps) ?? (txnTooLarge(r) ? 'RequestTooLarge' : undefined),
    ),
    Compact: unary((r, ctx) => facade.compact(r, ctx), sizeGuard),
  };
}
