/*
 * v3lockpb.Lock, as etcd 3.4.23 serves it (a clientv3 concurrency Mutex over a session), with one
 * deliberate difference: the SAFE re-check after waiting.
 *
 * Lock(name, lease): session lease (lease 0 → a new 60 s lease nobody keeps alive); key
 * `<name>/<lease hex>`; one txn: if create_revision(key) == 0 then put(key, "", lease) + get oldest
 * under `<name>/`, else get(key) + get oldest. Our queue position is the put's revision (or the
 * existing key's create revision: the same lease locking twice is one acquisition). If we are the
 * oldest → {header of the txn, key}. Otherwise wait until every older key under the prefix is
 * deleted → {header of the last read, key}. A failed or canceled wait deletes our key (etcd too).
 *
 * SAFE (Jepsen etcd 3.4.3, fixed in etcd 3.5): etcd 3.4.23 returns the lock even if the waiter's lease
 * expired (and its key vanished) while it waited — verified: a waiter with a 2 s lease, the holder
 * unlocking 4 s later, still got {key} for a key that no longer exists. Here, after the wait, the key
 * must still exist with our create revision: if the lease is gone the call fails with LeaseNotFound
 * ("etcdserver: requested lease not found"); if only the key was deleted (by someone else's Unlock /
 * delete) while the lease lives, we queue again at the back. A returned lock is still only as good as
 * its lease: holders must fence their writes (compare the key's create revision in their txns).
 *
 * Unlock(key): delete the key → {header}. An empty key: EmptyKey, as etcd's KV validation says.
 */
import type { LockRequest__Output } from '../pb/v3lockpb/LockRequest.js';
import type { LockResponse } from '../pb/v3lockpb/LockResponse.js';
import type { UnlockRequest__Output } from '../pb/v3lockpb/UnlockRequest.js';
import type { UnlockResponse } from '../pb/v3lockpb/UnlockResponse.js';
import { EtcdError } from './errors.js';
import type { EtcdServer } from './server.js';
import {
  createRev,
  createRevIs,
  firstCreated,
  getOp,
  headerRev,
  keyPrefix,
  putOp,
  rangeKvs,
  rangeReq,
  recheckWaiter,
  sessionLease,
  throwIfAborted,
  txnReq,
  waitDeletes,
  waiterKey,
} from './v3-concurrency.js';
import type { V3Kv } from './v3-kv.js';

export async function lock(s: EtcdServer, kv: V3Kv, req: LockRequest__Output, signal?: AbortSignal): Promise<LockResponse> {
  throwIfAborted(signal);
  const lease = await sessionLease(kv, req.lease);
  const pfx = keyPrefix(req.name);
  const key = waiterKey(req.name, lease);
  for (;;) {
    const t = await kv.txn(
      txnReq([createRevIs(key, 0)], [putOp(key, Buffer.alloc(0), lease), getOp(firstCreated(pfx))], [getOp(rangeReq(key)), getOp(firstCreated(pfx))]),
    );
    const responses = t.responses ?? [];
    const mine = rangeKvs(responses[0])[0];
    const myRev = t.succeeded || mine === undefined ? headerRev(t.header) : createRev(mine);
    const owner = rangeKvs(responses[1])[0];
    if (owner === undefined || createRev(owner) === myRev) return { header: t.header, key };
    let header;
    try {
      header = await waitDeletes(s, kv, pfx, myRev - 1, signal);
    } catch (e) {
      await unlockQuietly(kv, key);
      throw e;
    }
    if ((await recheckWaiter(s, kv, key, lease, myRev)) === 'held') return { header, key };
  }
}

/** etcd releases a waiter's key when its wait fails (Mutex.Unlock on a fresh context). */
async function unlockQuietly(kv: V3Kv, key: Buffer): Promise<void> {
  await kv.deleteRange({ key, range_end: Buffer.alloc(0), prev_kv: false }).catch(() => undefined);
}

export async function unlock(kv: V3Kv, req: UnlockRequest__Output): Promise<UnlockResponse> {
  if (req.key.length === 0) throw new EtcdError('EmptyKey');
  const r = await kv.deleteRange({ key: req.key, range_end: Buffer.alloc(0), prev_kv: false });
  return { header: r.header };
}
