/*
 * The v2 applier: one replicated V2Request → the v2 store, with the proposer's clock carried in the
 * entry (time_ms), so every member computes the same expirations. SYNC (the leader's clock) expires
 * TTL'd keys. The mapping of methods and preconditions to store calls is the v2store contract.
 */
import { V2Error, type V2Event, type V2Store } from '../v2store/index.js';
import type { V2Request } from './internal-request.js';

export type V2Outcome = { kind: 'v2'; event?: V2Event; error?: V2Error };

function ttl(r: Partial<V2Request>): { expireAtMs?: number } {
  // 0 is none; a negative (wrapped, far past) expiration is kept, as etcd keeps a non-zero one
  const at = Number(r.expiration_ms ?? '0');
  return at !== 0 ? { expireAtMs: at } : {};
}

/** prev_index (uint64 text): a number, or a bigint above 2^53 - 1 (never equal to an index, but etcd prints it). */
function prevIndexOf(r: Partial<V2Request>): number | bigint {
  const n = Number(r.prev_index ?? '0');
  return Number.isSafeInteger(n) ? n : BigInt(r.prev_index!);
}

function put(s: V2Store, r: Partial<V2Request>, path: string, now: number): V2Event {
  const value = r.val ?? '';
  const prevIndex = prevIndexOf(r);
  const hasPrev = (r.prev_value ?? '') !== '' || prevIndex > 0;
  if (r.has_prev_exist && !r.prev_exist) return s.create(path, { value, dir: r.dir, ...ttl(r) }, now);
  if (hasPrev) {
    const prevValue = (r.prev_value ?? '') !== '' ? r.prev_value : undefined;
    return s.compareAndSwap(path, prevValue, prevIndex > 0 ? prevIndex : undefined, { value, refresh: r.refresh, ...ttl(r) }, now);
  }
  if (r.has_prev_exist && r.prev_exist) return s.update(path, { value, refresh: r.refresh, ...ttl(r) }, now);
  return s.set(path, { value, dir: r.dir, refresh: r.refresh, ...ttl(r) }, now);
}

function del(s: V2Store, r: Partial<V2Request>, path: string, now: number): V2Event {
  const prevIndex = prevIndexOf(r);
  if ((r.prev_value ?? '') !== '' || prevIndex > 0) {
    return s.compareAndDelete(path, (r.prev_value ?? '') !== '' ? r.prev_value : undefined, prevIndex > 0 ? prevIndex : undefined, now);
  }
  return s.delete(path, { dir: r.dir, recursive: r.recursive }, now);
}

export function applyV2(s: V2Store, r: Partial<V2Request>): V2Outcome {
  const now = Number(r.time_ms ?? '0');
  const path = r.path ?? '/';
  try {
    switch (r.method) {
      case 'PUT':
        return { kind: 'v2', event: put(s, r, path, now) };
      case 'POST':
        return { kind: 'v2', event: s.create(path, { value: r.val ?? '', dir: r.dir, unique: true, ...ttl(r) }, now) };
      case 'DELETE':
        return { kind: 'v2', event: del(s, r, path, now) };
      case 'QGET':
        return { kind: 'v2', event: s.get(path, { recursive: r.recursive, sorted: r.sorted }, now) };
      case 'SYNC':
        s.deleteExpiredKeys(now);
        return { kind: 'v2' };
      default:
        throw new Error(`v2: unknown method ${String(r.method)} in the log`);
    }
  } catch (err) {
    if (err instanceof V2Error) return { kind: 'v2', error: err };
    throw err;
  }
}
