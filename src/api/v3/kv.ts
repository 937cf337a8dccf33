/** etcdserverpb.KV: validation as etcd's v3rpc key server, then the facade. */
import type { EtcdServerFacade } from '../../server/facade.js';
import type { KVHandlers } from '../../pb/etcdserverpb/KV.js';
import type { TxnRequest__Output } from '../../pb/etcdserverpb/TxnRequest.js';
import type { RequestOp__Output } from '../../pb/etcdserverpb/RequestOp.js';
import { type ApiLimits, isOversized, sizeGuard, unary } from './common.js';
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

function txnTooLarge(r: TxnRequest__Output): boolean {
  return isOversized(r) && !(isTxnReadOnly(r.success) && isTxnReadOnly(r.failure));
}

export function kvHandlers(facade: EtcdServerFacade, limits: ApiLimits): KVHandlers {
  return {
    Range: unary((r, ctx) => facade.range(r, ctx), checkRange),
    Put: unary(
      (r, ctx) => facade.put(r, ctx),
      (r) => checkPut(r) ?? (isOversized(r) ? 'RequestTooLarge' : undefined),
    ),
    DeleteRange: unary(
      (r, ctx) => facade.deleteRange(r, ctx),
      (r) => checkDelete(r) ?? (isOversized(r) ? 'RequestTooLarge' : undefined),
    ),
    Txn: unary(
      (r, ctx) => facade.txn(r, ctx),
      (r) => checkTxn(r, limits.maxTxnOps) ?? (txnTooLarge(r) ? 'RequestTooLarge' : undefined),
    ),
    Compact: unary((r, ctx) => facade.compact(r, ctx), sizeGuard),
  };
}
