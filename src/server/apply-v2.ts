/*
 * The v2 applier: one etcdserverpb.Request → the v2 store, mapped as etcd's applierV2store maps it
 * (POST: create unique; PUT: by PrevExist, then PrevIndex/PrevValue, else set; DELETE: compare-and-delete
 * or delete; QGET: get; SYNC: expire TTL'd keys at the request's Time). A request's Path is the store
 * path, cleaned as etcd's store cleans it: "/1/<user key>" for /v2/keys, "/2/users/<name>", "/2/roles/<name>"
 * and "/2/enabled" for etcd's v2 auth, "" (the root) for etcd's /health. Expiration and Time are unix
 * nanoseconds, the store's times ms (unixNsToMs). `now` (ms) is the time a write's response shows TTLs
 * at: etcd's store reads its clock when it applies; SYNC carries the leader's clock. A member's
 * attribute publication and the cluster version are PUTs under /0, taken apart before (apply.ts).
 */
import type { V2Request } from '../codec/v2-request.js';
import { cleanPath, unixNsToMs, V2Error, type V2Event, type V2Store } from '../v2store/index.js';

export type V2Outcome = { kind: 'v2'; event?: V2Event; error?: V2Error };

function ttl(r: V2Request): { expireAtMs?: number } {
  // 0 is none; a negative (wrapped, far past) expiration is kept, as etcd keeps a non-zero one
  return r.Expiration !== 0n ? { expireAtMs: unixNsToMs(r.Expiration) } : {};
}

/** PrevIndex (uint64): a number, or a bigint above 2^53 - 1 (never equal to an index, but etcd prints it). */
function prevIndexOf(r: V2Request): number | bigint {
  return r.PrevIndex <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r.PrevIndex) : r.PrevIndex;
}

function put(s: V2Store, r: V2Request, path: string, now: number): V2Event {
  const value = r.Val;
  const prevIndex = prevIndexOf(r);
  const prevValue = r.PrevValue !== '' ? r.PrevValue : undefined;
  const hasPrev = prevValue !== undefined || prevIndex > 0;
  const refresh = r.Refresh ?? false;
  const cas = (): V2Event => s.compareAndSwapAt(path, prevValue, prevIndex > 0 ? prevIndex : undefined, { value, refresh, ...ttl(r) }, now);
  if (r.PrevExist === true) return hasPrev ? cas() : s.updateAt(path, { value, refresh, ...ttl(r) }, now);
  if (r.PrevExist === false) return s.createAt(path, { value, dir: r.Dir, ...ttl(r) }, now);
  if (hasPrev) return cas();
  return s.setAt(path, { value, dir: r.Dir, refresh, ...ttl(r) }, now);
}

function del(s: V2Store, r: V2Request, path: string, now: number): V2Event {
  const prevIndex = prevIndexOf(r);
  if (r.PrevValue !== '' || prevIndex > 0) {
    return s.compareAndDeleteAt(path, r.PrevValue !== '' ? r.PrevValue : undefined, prevIndex > 0 ? prevIndex : undefined, now);
  }
  return s.deleteAt(path, { dir: r.Dir, recursive: r.Recursive }, now);
}

function applyToPath(s: V2Store, r: V2Request, path: string, now: number): V2Event {
  switch (r.Method) {
    case 'PUT':
      return put(s, r, path, now);
    case 'POST':
      return s.createAt(path, { value: r.Val, dir: r.Dir, unique: true, ...ttl(r) }, now);
    case 'DELETE':
      return del(s, r, path, now);
    case 'QGET':
      return s.getAt(path, { recursive: r.Recursive, sorted: r.Sorted }, now);
    default:
      throw new Error(`v2: unknown method ${r.Method} in the log`);
  }
}

export function applyV2(s: V2Store, r: V2Request, now: number): V2Outcome {
  try {
    if (r.Method === 'SYNC') {
      s.deleteExpiredKeys(unixNsToMs(r.Time));
      return { kind: 'v2' };
    }
    // etcd's store cleans every path: "/1/<key>" for /v2/keys, "/2/…" for v2 auth, "" (the root) for /health
    return { kind: 'v2', event: applyToPath(s, r, cleanPath(r.Path), now) };
  } catch (err) {
    if (err instanceof V2Error) return { kind: 'v2', error: err };
    throw err;
  }
}
