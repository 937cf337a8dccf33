/*
 * etcd 3.4's permission checks of a request (apply_auth.go), shared by the applier (proposed writes,
 * checked when applied) and the local read path (range and read-only txn, checked before serving).
 * Each throws AuthError (auth/), which the callers turn into the EtcdError of the same code.
 */
import { AuthError, type AuthInfo, type AuthStore } from '../auth/index.js';
import type { Lessor } from '../lease/index.js';
import { isLeaseError } from '../lease/index.js';
import type { RequestOp__Output } from '../pb/etcdserverpb/RequestOp.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import { EtcdError } from './errors.js';

const end = (b: Buffer): Buffer | undefined => (b.length === 0 ? undefined : b);

function checkOps(as: AuthStore, ai: AuthInfo, ops: RequestOp__Output[]): void {
  for (const op of ops) {
    if (op.request_range) as.isRangePermitted(ai, op.request_range.key, end(op.request_range.range_end));
    else if (op.request_put) as.isPutPermitted(ai, op.request_put.key);
    else if (op.request_delete_range) {
      const d = op.request_delete_range;
      if (d.prev_kv) as.isRangePermitted(ai, d.key, end(d.range_end));
      as.isDeleteRangePermitted(ai, d.key, end(d.range_end));
    } else if (op.request_txn) {
      // etcd 3.4 leaves nested txns unchecked; we check them as any other txn (stricter, never looser)
      checkTxnAuth(as, ai, op.request_txn);
    }
  }
}

/** Every compare needs READ on its range; every op of both branches its own permission. */
export function checkTxnAuth(as: AuthStore, ai: AuthInfo, t: TxnRequest__Output): void {
  for (const c of t.compare) as.isRangePermitted(ai, c.key, end(c.range_end));
  checkOps(as, ai, t.success);
  checkOps(as, ai, t.failure);
}

/**
 * Attaching a key to a lease, or revoking it, needs WRITE on every key the lease holds already
 * (etcd's checkLeasePuts: whoever may revoke a lease may delete all its keys).
 */
export function checkLeasePuts(as: AuthStore, ai: AuthInfo, lessor: Lessor, id: bigint): void {
  if (id === 0n || !as.enabled) return;
  const l = lessor.timeToLive(id, 0);
  if (isLeaseError(l)) return;
  for (const k of l.keys) as.isPutPermitted(ai, Buffer.from(k));
}

/** Runs a check; an AuthError comes back as the EtcdError of its code. */
export function authToEtcdError(e: unknown): EtcdError {
  if (e instanceof AuthError) return new EtcdError(e.code);
  throw e;
}
