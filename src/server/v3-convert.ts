/*
 * Conversion between the wire shapes (pb objects: snake_case, int64 as decimal strings) and the MVCC
 * room's shapes (camelCase, revisions as numbers, leases as bigint). Pure functions; no I/O.
 */
import type { Compare__Output } from '../pb/etcdserverpb/Compare.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { DeleteRangeResponse } from '../pb/etcdserverpb/DeleteRangeResponse.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { PutResponse } from '../pb/etcdserverpb/PutResponse.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { RangeResponse } from '../pb/etcdserverpb/RangeResponse.js';
import type { RequestOp__Output } from '../pb/etcdserverpb/RequestOp.js';
import type { ResponseHeader } from '../pb/etcdserverpb/ResponseHeader.js';
import type { ResponseOp } from '../pb/etcdserverpb/ResponseOp.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import type { TxnResponse } from '../pb/etcdserverpb/TxnResponse.js';
import type { Event as PbEvent } from '../pb/mvccpb/Event.js';
import type { KeyValue as PbKeyValue } from '../pb/mvccpb/KeyValue.js';
import type * as mvcc from '../mvcc/types.js';

/** int64 string → number; revisions and limits are far below 2^53. */
export function num(s: string | undefined): number {
  return s === undefined || s === '' ? 0 : Number(s);
}

/** int64 string → bigint (lease and member ids). */
export function big(s: string | undefined): bigint {
  return s === undefined || s === '' ? 0n : BigInt(s);
}

/** Lease ids are int64 on the wire: a negative id is a huge unsigned one in our bigint space. */
export function leaseIdToWire(id: bigint): string {
  return BigInt.asIntN(64, id).toString();
}

function rangeEnd(b: Buffer): Buffer | undefined {
  return b.length === 0 ? undefined : b;
}

export function toMvccRange(r: RangeRequest__Output): mvcc.RangeRequest {
  return {
    key: r.key,
    rangeEnd: rangeEnd(r.range_end),
    limit: num(r.limit),
    revision: num(r.revision),
    sortOrder: r.sort_order,
    sortTarget: r.sort_target,
    keysOnly: r.keys_only,
    countOnly: r.count_only,
    minModRevision: num(r.min_mod_revision),
    maxModRevision: num(r.max_mod_revision),
    minCreateRevision: num(r.min_create_revision),
    maxCreateRevision: num(r.max_create_revision),
  };
}

export function toMvccPut(p: PutRequest__Output): mvcc.PutRequest {
  return { key: p.key, value: p.value, lease: big(p.lease), prevKv: p.prev_kv, ignoreValue: p.ignore_value, ignoreLease: p.ignore_lease };
}

export function toMvccDelete(d: DeleteRangeRequest__Output): mvcc.DeleteRangeRequest {
  return { key: d.key, rangeEnd: rangeEnd(d.range_end), prevKv: d.prev_kv };
}

function toMvccCompare(c: Compare__Output): mvcc.Compare {
  return {
    key: c.key,
    rangeEnd: rangeEnd(c.range_end),
    target: c.target,
    result: c.result,
    version: num(c.version),
    createRevision: num(c.create_revision),
    modRevision: num(c.mod_revision),
    value: c.value ?? Buffer.alloc(0),
    lease: big(c.lease),
  };
}

function toMvccOp(op: RequestOp__Output): mvcc.RequestOp {
  if (op.request_range) return { range: toMvccRange(op.request_range) };
  if (op.request_put) return { put: toMvccPut(op.request_put) };
  if (op.request_delete_range) return { deleteRange: toMvccDelete(op.request_delete_range) };
  if (op.request_txn) return { txn: toMvccTxn(op.request_txn) };
  throw new Error('txn: request op with no request');
}

export function toMvccTxn(t: TxnRequest__Output): mvcc.TxnRequest {
  return { compare: t.compare.map(toMvccCompare), success: t.success.map(toMvccOp), failure: t.failure.map(toMvccOp) };
}

// ---- results back to the wire ----

export function kvToPb(kv: mvcc.KeyValue): PbKeyValue {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease === 0n ? 0 : leaseIdToWire(kv.lease),
  };
}

export function eventToPb(e: mvcc.Event): PbEvent {
  const out: PbEvent = { type: e.type, kv: kvToPb(e.kv) };
  if (e.prevKv) out.prev_kv = kvToPb(e.prevKv);
  return out;
}

export function rangeToPb(r: mvcc.RangeResult, header: ResponseHeader): RangeResponse {
  return { header, kvs: r.kvs.map(kvToPb), more: r.more, count: r.count };
}

export function putToPb(r: mvcc.PutResult, header: ResponseHeader): PutResponse {
  return r.prevKv ? { header, prev_kv: kvToPb(r.prevKv) } : { header };
}

export function deleteToPb(r: mvcc.DeleteRangeResult, header: ResponseHeader): DeleteRangeResponse {
  return { header, deleted: r.deleted, prev_kvs: r.prevKvs.map(kvToPb) };
}

/**
 * Responses nested in a txn carry a header with only the revision, as etcd sends them; a nested
 * txn's own header stays empty (etcd's newTxnResp makes it and only the outer txn fills it in).
 */
function opToPb(op: mvcc.ResponseOp): ResponseOp {
  if ('range' in op) return { response_range: rangeToPb(op.range, { revision: op.range.revision }) };
  if ('put' in op) return { response_put: putToPb(op.put, { revision: op.put.revision }) };
  if ('deleteRange' in op) return { response_delete_range: deleteToPb(op.deleteRange, { revision: op.deleteRange.revision }) };
  return { response_txn: txnToPb(op.txn, {}) };
}

export function txnToPb(r: mvcc.TxnResult, header: ResponseHeader): TxnResponse {
  return { header, succeeded: r.succeeded, responses: r.responses.map(opToPb) };
}
