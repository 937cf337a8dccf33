/*
 * The building blocks of etcd's server-side Lock and Election services (v3-lock.ts, v3-election.ts),
 * which etcd 3.4 implements with its clientv3 "concurrency" recipes over its own KV API:
 *
 *  - a session: the request's lease, or (lease 0) a freshly granted SESSION_TTL_SECONDS lease that
 *    nobody keeps alive (etcd orphans the session at once);
 *  - a waiter key `<name>/<lease id in lowercase hex>` (Go's %x of the int64: -1 → "-1"), e.g. name
 *    "job", lease 4111120163161481221 → "job/390da201ba2fa005", created by a txn `create_revision == 0`;
 *  - waitDeletes: until no key under the prefix has a create revision ≤ maxCreateRev, watch the one
 *    with the largest such revision for its deletion (one watch at a time, as etcd does).
 *
 * All reads and writes go through V3Kv (linearizable reads, quota-checked proposals), exactly the
 * path a KV client takes; the request builders below fill every field of the pb `__Output` shapes.
 */
import type { Compare__Output } from '../pb/etcdserverpb/Compare.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { RangeResponse } from '../pb/etcdserverpb/RangeResponse.js';
import type { RequestOp__Output } from '../pb/etcdserverpb/RequestOp.js';
import type { ResponseHeader } from '../pb/etcdserverpb/ResponseHeader.js';
import type { ResponseOp } from '../pb/etcdserverpb/ResponseOp.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import type { KeyValue } from '../pb/mvccpb/KeyValue.js';
import { newRangeRequest } from '../codec/kv.js';
import { prefixEnd } from '../pkg/bytes.js';
import { EtcdError } from './errors.js';
import { big } from './v3-convert.js';
import type { EtcdServer } from './server.js';
import type { V3Kv } from './v3-kv.js';

/** TTL of the lease granted for a request with lease 0 (clientv3 concurrency's default session TTL). */
export const SESSION_TTL_SECONDS = 60;

const EMPTY = Buffer.alloc(0);

/** Go's `%x` of an int64 lease id. */
export function leaseHex(lease: string): string {
  return BigInt.asIntN(64, big(lease)).toString(16);
}

/** The request's lease, or a new SESSION_TTL_SECONDS lease for lease 0 (decimal int64 string). */
export async function sessionLease(kv: V3Kv, lease: string): Promise<string> {
  if (big(lease) !== 0n) return lease;
  const r = await kv.leaseGrant({ ID: '0', TTL: String(SESSION_TTL_SECONDS) });
  return String(r.ID);
}

/** `<name>/` */
export function keyPrefix(name: Buffer): Buffer {
  return Buffer.concat([name, Buffer.from('/')]);
}

export function waiterKey(name: Buffer, lease: string): Buffer {
  return Buffer.concat([keyPrefix(name), Buffer.from(leaseHex(lease))]);
}

// ---- pb request builders ----

export function rangeReq(key: Buffer, over: Partial<RangeRequest__Output> = {}): RangeRequest__Output {
  return { ...newRangeRequest(), key, ...over };
}

/** The oldest key under the prefix (clientv3 WithFirstCreate). */
export function firstCreated(pfx: Buffer): RangeRequest__Output {
  return rangeReq(pfx, { range_end: prefixEnd(pfx), sort_target: 'CREATE', sort_order: 'ASCEND', limit: '1' });
}

/** The newest key under the prefix created at or before maxCreateRev (WithLastCreate + WithMaxCreateRev). */
function lastCreatedUpTo(pfx: Buffer, maxCreateRev: number): RangeRequest__Output {
  return rangeReq(pfx, {
    range_end: prefixEnd(pfx),
    sort_target: 'CREATE',
    sort_order: 'DESCEND',
    limit: '1',
    max_create_revision: String(maxCreateRev),
  });
}

export function createRevIs(key: Buffer, rev: number): Compare__Output {
  return { result: 'EQUAL', target: 'CREATE', key, create_revision: String(rev), range_end: EMPTY, target_union: 'create_revision' };
}

export const getOp = (r: RangeRequest__Output): RequestOp__Output => ({ request_range: r, request: 'request_range' });
export const putOp = (key: Buffer, value: Buffer, lease: string): RequestOp__Output => ({
  request_put: { key, value, lease, prev_kv: false, ignore_value: false, ignore_lease: false },
  request: 'request_put',
});
export const deleteOp = (key: Buffer): RequestOp__Output => ({
  request_delete_range: { key, range_end: EMPTY, prev_kv: false },
  request: 'request_delete_range',
});

export function txnReq(compare: Compare__Output[], success: RequestOp__Output[], failure: RequestOp__Output[]): TxnRequest__Output {
  return { compare, success, failure };
}

// ---- reading pb responses (built by v3-convert: numbers and Buffers) ----

export function rangeKvs(op: ResponseOp | undefined): KeyValue[] {
  return op?.response_range?.kvs ?? [];
}

export const createRev = (kv: KeyValue): number => Number(kv.create_revision ?? 0);
export const headerRev = (h: ResponseHeader | null | undefined): number => Number(h?.revision ?? 0);
export const asBuffer = (b: Buffer | Uint8Array | string | undefined): Buffer => (b === undefined ? EMPTY : Buffer.from(b));

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EtcdError('Canceled');
}

/** Resolve when `key` is deleted at a revision ≥ rev (clientv3 concurrency waitDelete). */
export async function waitDelete(s: EtcdServer, key: Buffer, rev: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  const ms = s.kv.watchStream();
  const onAbort = (): void => ms.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    ms.watch({ key, startRevision: rev });
    for await (const r of ms) {
      if (r.compactRevision) throw new EtcdError('Compacted');
      if (r.events.some((e) => e.type === 'DELETE')) return;
    }
    throwIfAborted(signal);
    throw new EtcdError(s.stopped ? 'Stopped' : 'WatchCanceled', 'lost watcher waiting for delete');
  } finally {
    signal?.removeEventListener('abort', onAbort);
    ms.close();
  }
}

/**
 * Wait until every key under `pfx` created at or before maxCreateRev is gone; the header of the
 * last (empty) read. Keys are waited for newest first, so each wait is for one deletion.
 */
export async function waitDeletes(s: EtcdServer, kv: V3Kv, pfx: Buffer, maxCreateRev: number, signal: AbortSignal | undefined): Promise<ResponseHeader> {
  for (;;) {
    throwIfAborted(signal);
    const r: RangeResponse = await kv.range(lastCreatedUpTo(pfx, maxCreateRev));
    const kvs = r.kvs ?? [];
    if (kvs.length === 0) return r.header ?? {};
    await waitDelete(s, asBuffer(kvs[0]!.key), headerRev(r.header), signal);
  }
}

/**
 * The SAFE re-check after waiting (etcd 3.4.23 skips it; fixed in 3.5): our waiter key must still
 * exist with the create revision we queued at. 'held' → the caller owns it; 'requeue' → the key was
 * deleted by someone else while the lease lives (queue again); a vanished lease → LeaseNotFound.
 */
export async function recheckWaiter(s: EtcdServer, kv: V3Kv, key: Buffer, lease: string, myRev: number): Promise<'held' | 'requeue'> {
  const r = await kv.range(rangeReq(key));
  const kvs = r.kvs ?? [];
  if (kvs.length === 1 && createRev(kvs[0]!) === myRev) return 'held';
  if (!s.lessor.has(BigInt(lease))) throw new EtcdError('LeaseNotFound', 'lease expired while waiting');
  return 'requeue';
}
