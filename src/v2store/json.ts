/*
 * etcd's exact JSON bytes for v2 nodes and events. etcd 3.4 (Go 1.19 encoding/json) writes node fields
 * in the order key, value, dir, expiration, ttl, nodes, modifiedIndex, createdIndex, each left out when
 * empty (key "" for the root, value only on files, dir only when true, ttl 0, index 0), escapes < > &
 * U+2028 U+2029 as \u003c \u003e \u0026 \u2028 \u2029, control characters other than \n \r \t as \u00XX,
 * and replaces ill-formed text (lone surrogates here) with \ufffd. Expiration is RFC 3339 with the
 * fraction trimmed of trailing zeros: "2026-11-22T04:51:00.692Z", "2026-11-22T04:51:00Z".
 */
import { goJsonString } from '../pkg/go-json.js';

export { goJsonString };

export type V2Action =
  | 'get' | 'create' | 'set' | 'update' | 'delete' | 'compareAndSwap' | 'compareAndDelete' | 'expire';

/** One node as a client sees it; absent fields are omitted from the JSON. */
export interface V2NodeJson {
  key?: string;
  value?: string;
  dir?: true;
  expiration?: string;
  ttl?: number;
  nodes?: V2NodeJson[];
  modifiedIndex?: number;
  createdIndex?: number;
}

/** Pieces joined into one chunk at a time: few short strings stay alive, each byte is copied twice. */
const CHUNK_PIECES = 2048;

/**
 * A node in JSON, fields in etcd's order. One pass over the tree with an explicit stack, so linear in
 * the output whatever the depth (a key 1,500 levels deep is a 1,500-level tree; writing each level
 * from its children's strings copied them again at every level, and recursion has a depth limit).
 */
export function serializeNode(root: V2NodeJson): string {
  if (!hasNodes(root)) return leaf(root);
  const chunks: string[] = [];
  const out: string[] = [openDir(root)];
  const dirs: V2NodeJson[] = [root];
  const next: number[] = [0]; // per open directory, the index of its next child
  while (dirs.length > 0) {
    if (out.length >= CHUNK_PIECES) {
      chunks.push(out.join(''));
      out.length = 0;
    }
    const top = dirs.length - 1;
    const dir = dirs[top]!;
    const i = next[top]!;
    if (i === dir.nodes!.length) {
      out.push(closeDir(dir));
      dirs.pop();
      next.pop();
      continue;
    }
    next[top] = i + 1;
    if (i > 0) out.push(',');
    const child = dir.nodes![i]!;
    if (hasNodes(child)) {
      out.push(openDir(child));
      dirs.push(child);
      next.push(0);
    } else {
      out.push(leaf(child));
    }
  }
  chunks.push(out.join(''));
  return chunks.join('');
}

const hasNodes = (n: V2NodeJson): boolean => n.nodes !== undefined && n.nodes.length > 0;

/** The fields before "nodes". */
function headFields(n: V2NodeJson): string[] {
  const parts: string[] = [];
  if (n.key !== undefined && n.key !== '') parts.push(`"key":${goJsonString(n.key)}`);
  if (n.value !== undefined) parts.push(`"value":${goJsonString(n.value)}`);
  if (n.dir) parts.push('"dir":true');
  if (n.expiration !== undefined) parts.push(`"expiration":"${n.expiration}"`);
  if (n.ttl !== undefined && n.ttl !== 0) parts.push(`"ttl":${n.ttl}`);
  return parts;
}

/** The fields after "nodes". */
function pushTailFields(n: V2NodeJson, parts: string[]): string[] {
  if (n.modifiedIndex) parts.push(`"modifiedIndex":${n.modifiedIndex}`);
  if (n.createdIndex) parts.push(`"createdIndex":${n.createdIndex}`);
  return parts;
}

const leaf = (n: V2NodeJson): string => `{${pushTailFields(n, headFields(n)).join(',')}}`;

function openDir(n: V2NodeJson): string {
  const parts = headFields(n);
  parts.push('"nodes":[');
  return `{${parts.join(',')}`;
}

function closeDir(n: V2NodeJson): string {
  const tail = pushTailFields(n, []);
  return tail.length === 0 ? ']}' : `],${tail.join(',')}}`;
}

/** Go's time.RFC3339Nano of a UTC instant given in (possibly fractional) ms since the epoch. */
export function formatRfc3339Nano(ms: number): string {
  const wholeMs = Math.floor(ms);
  let nanos = Math.round((ms - wholeMs) * 1e6) + (((wholeMs % 1000) + 1000) % 1000) * 1e6;
  let seconds = Math.floor(wholeMs / 1000);
  if (nanos >= 1e9) { seconds += 1; nanos -= 1e9; }
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const base = iso.slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  return `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** Go's time.Duration range in milliseconds: Time.Sub saturates at these. */
const DURATION_MS_MAX = 9223372036854.775;

/**
 * etcd's ttl field: seconds left, rounded up while positive, truncated toward zero once past; the
 * time left saturates as Go's Time.Sub does (an expiration in 1688 shows ttl -9223372036).
 */
export function ttlSecondsLeft(expireMs: number, nowMs: number): number {
  const leftMs = Math.max(-DURATION_MS_MAX, Math.min(DURATION_MS_MAX, expireMs - nowMs));
  const ttl = leftMs > 0 ? Math.ceil(leftMs / 1000) : Math.trunc(leftMs / 1000);
  return ttl === 0 ? 0 : ttl; // no -0
}

/** Unix ms of 2000-01-01T00:00:00Z: a set or create with an expiration before it is permanent (etcd's minExpireTime). */
export const MIN_EXPIRE_MS = 946684800000;

/** A ttl below this many seconds cannot overflow Go's int64 nanoseconds before the year 2200. */
const TTL_PLAIN_SECONDS_MAX = 5_000_000_000;

/**
 * The expiration etcd's v2 HTTP layer computes for `ttl` seconds (a uint64) from nowMs, in unix ms,
 * with Go's int64 arithmetic: time.Duration(ttl) * time.Second wraps, and so does Time.UnixNano()
 * past 2262; e.g. ttl 18446744073709551615 is -1 s (already expired), ttl 99999999999 lands in 1688
 * (a set is then permanent, an update expires at the next SYNC). 0 means none, as in etcd's request.
 */
export function etcdExpirationMs(nowMs: number, ttlSeconds: number | bigint): number {
  if (typeof ttlSeconds === 'number' && ttlSeconds < TTL_PLAIN_SECONDS_MAX) return nowMs + ttlSeconds * 1000;
  const unixNs = etcdExpirationNs(BigInt(Math.floor(nowMs)) * 1_000_000n, ttlSeconds);
  return Number(unixNs / 1_000_000n) - (unixNs % 1_000_000n < 0n ? 1 : 0); // floor to whole ms
}

/**
 * The same expiration in unix nanoseconds from now in unix nanoseconds, as etcd writes it in the
 * replicated request (Request.Expiration): clock.Now().Add(time.Duration(ttl) * time.Second).UnixNano().
 */
export function etcdExpirationNs(nowNs: bigint, ttlSeconds: number | bigint): bigint {
  const durationNs = BigInt.asIntN(64, BigInt(ttlSeconds) * 1_000_000_000n);
  return BigInt.asIntN(64, nowNs + durationNs);
}

/**
 * Unix nanoseconds (a replicated request's Expiration or Time) as the store's ms: exact for whole ms
 * (what members of ours write), within a quarter of a microsecond otherwise (etcd's clock has ns),
 * never out of order: a <= b gives unixNsToMs(a) <= unixNsToMs(b).
 */
export function unixNsToMs(ns: bigint): number {
  let ms = ns / 1_000_000n;
  let sub = ns % 1_000_000n;
  if (sub < 0n) {
    ms -= 1n;
    sub += 1_000_000n;
  }
  return Number(ms) + Number(sub) / 1e6;
}
