// Seeded random protobuf messages and the zero-stripping both codec tests (codec/kv, api-v3/watch-lease-codec)
// compare against protobufjs with: int64s in every form protobufjs accepts (numbers, decimal strings
// beyond 2^53, Longs), bytes from empty to 2 KB, headers with and without fields.
import protobuf from 'protobufjs';
import { expect } from 'vitest';

export type Method = { requestSerialize(o: object): Buffer; requestDeserialize(b: Buffer): object; responseSerialize(o: object): Buffer; responseDeserialize(b: Buffer): object };
export const Long = protobuf.util.Long as unknown as { fromString(s: string, unsigned?: boolean): object };

/** A deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const maybe = <T>(r: Rand, f: () => T): T | undefined => (r() < 0.7 ? f() : undefined);
export const list = <T>(r: Rand, max: number, f: (r: Rand) => T): T[] => Array.from({ length: Math.floor(r() * (max + 1)) }, () => f(r));

/** int64 values of every accepted form: numbers, decimal strings (beyond 2^53 too), Longs. */
export function int64(r: Rand): number | string | object {
  const n = pick(r, [
    () => 0,
    () => Math.floor(r() * 128),
    () => Math.floor(r() * 2 ** 32),
    () => Number.MAX_SAFE_INTEGER - Math.floor(r() * 1000),
    () => -Math.floor(r() * 2 ** 40) - 1,
    () => 2 ** 31,
    () => 2 ** 53 - 1,
  ])();
  return pick(r, [
    () => n,
    () => String(n),
    () => pick(r, ['9223372036854775807', '-9223372036854775808', '18446744073709551615', '10276657743932975437', '-7587861231231231231']),
    () => Long.fromString(String(n)),
  ])();
}

export function bytes(r: Rand): Buffer {
  return pick(r, [
    () => Buffer.alloc(0),
    () => Buffer.from(pick(r, ['foo', 'ключ', '🔑/κλειδί', '\u0000'])),
    () => Buffer.from(Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256))),
    () => Buffer.alloc(200 + Math.floor(r() * 2000), Math.floor(r() * 256)),
  ])();
}

export function keyValue(r: Rand): object {
  return { key: bytes(r), create_revision: int64(r), mod_revision: int64(r), version: int64(r), value: bytes(r), lease: int64(r) };
}

export function header(r: Rand): object {
  return pick(r, [
    () => ({ cluster_id: int64(r), member_id: int64(r), revision: int64(r), raft_term: int64(r) }),
    () => ({ revision: int64(r) }),
    () => ({}),
  ])();
}

/** The header's uint64 fields: protobufjs writes a negative number given for them as 0. */
const UINT64 = new Set(['cluster_id', 'member_id', 'raft_term']);

/** Whether field `k`'s value `v` is its proto3 zero (what etcd, and our encoders, leave out). */
function isZero(k: string, v: unknown): boolean {
  if (v === 0 || v === '0' || v === '-0' || v === false || v === '') return true;
  if (k === 'type' && v === 'PUT') return true; // Event.type's zero enum value
  if (Buffer.isBuffer(v)) return v.length === 0;
  if (v !== null && typeof v === 'object' && 'low' in v && 'high' in v) return (v as { low: number; high: number }).low === 0 && (v as { high: number }).high === 0;
  return UINT64.has(k) && typeof v === 'number' && v < 0;
}

/** The object without its zero scalars (nested messages and list entries kept). */
export function stripZeros(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripZeros);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || 'low' in v) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && !isZero(k, x)) out[k] = stripZeros(x);
  return out;
}

// ---- KV requests ----

export function compare(r: Rand): object {
  const c: Record<string, unknown> = {
    result: pick(r, ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL', 3]),
    target: pick(r, ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE']),
    key: bytes(r),
  };
  if (r() < 0.5) c.range_end = bytes(r);
  const member = pick(r, ['version', 'create_revision', 'mod_revision', 'value', 'lease', undefined]);
  if (member === 'value') c.value = bytes(r);
  else if (member !== undefined) c[member] = int64(r);
  return c;
}
export function rangeReq(r: Rand): object {
  return {
    key: bytes(r), range_end: maybe(r, () => bytes(r)), limit: maybe(r, () => int64(r)), revision: maybe(r, () => int64(r)),
    sort_order: maybe(r, () => pick(r, ['NONE', 'ASCEND', 'DESCEND'])), sort_target: maybe(r, () => pick(r, ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'])),
    serializable: r() < 0.5, keys_only: r() < 0.3, count_only: r() < 0.3,
    min_mod_revision: maybe(r, () => int64(r)), max_mod_revision: maybe(r, () => int64(r)),
    min_create_revision: maybe(r, () => int64(r)), max_create_revision: maybe(r, () => int64(r)),
  };
}
export function putReq(r: Rand): object {
  return { key: bytes(r), value: maybe(r, () => bytes(r)), lease: maybe(r, () => int64(r)), prev_kv: r() < 0.5, ignore_value: r() < 0.2, ignore_lease: r() < 0.2 };
}
export function deleteReq(r: Rand): object {
  return { key: bytes(r), range_end: bytes(r), prev_kv: r() < 0.5 };
}
export function txnReq(r: Rand, depth = 0): object {
  const op = (): object =>
    pick(r, [
      () => ({ request_range: rangeReq(r) }),
      () => ({ request_put: putReq(r) }),
      () => ({ request_delete_range: deleteReq(r) }),
      () => (depth < 3 ? { request_txn: txnReq(r, depth + 1) } : {}),
    ])();
  return { compare: list(r, 3, compare), success: list(r, 3, op), failure: list(r, 3, op) };
}

/** Exact shape: JSON keeps key order; Buffers must stay Buffers. */
export function sameObject(ours: unknown, theirs: unknown): void {
  expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
  expect(ours).toStrictEqual(theirs);
}
