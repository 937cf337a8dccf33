/**
 * Request checks that etcd's v3rpc layer makes before a request reaches the server (and raft).
 * Each returns the error code of the first violation, or undefined. No allocation on success
 * except in txn duplicate-key detection, which is bounded by max-txn-ops.
 */
import type { EtcdErrorCode } from '../../server/facade.js';
import type { RangeRequest__Output } from '../../pb/etcdserverpb/RangeRequest.js';
import type { PutRequest__Output } from '../../pb/etcdserverpb/PutRequest.js';
import type { DeleteRangeRequest__Output } from '../../pb/etcdserverpb/DeleteRangeRequest.js';
import type { TxnRequest__Output } from '../../pb/etcdserverpb/TxnRequest.js';
import type { RequestOp__Output } from '../../pb/etcdserverpb/RequestOp.js';

type Code = EtcdErrorCode | undefined;

export function checkRange(r: RangeRequest__Output): Code {
  return r.key.length === 0 ? 'EmptyKey' : undefined;
}

export function checkPut(r: PutRequest__Output): Code {
  if (r.key.length === 0) return 'EmptyKey';
  if (r.ignore_value && r.value.length !== 0) return 'ValueProvided';
  if (r.ignore_lease && r.lease !== '0') return 'LeaseProvided';
  return undefined;
}

export function checkDelete(r: DeleteRangeRequest__Output): Code {
  return r.key.length === 0 ? 'EmptyKey' : undefined;
}

/** Op counts (each list at most maxTxnOps), compare keys, nested ops, then overlapping writes. */
export function checkTxn(r: TxnRequest__Output, maxTxnOps: number): Code {
  const code = checkTxnShape(r, maxTxnOps);
  if (code !== undefined) return code;
  if (checkIntervals(r.success) === undefined) return 'DuplicateKey';
  if (checkIntervals(r.failure) === undefined) return 'DuplicateKey';
  return undefined;
}

function checkTxnShape(r: TxnRequest__Output, maxTxnOps: number): Code {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) return 'TooManyOps';
  for (const c of r.compare) if (c.key.length === 0) return 'EmptyKey';
  // etcd hands nested txns the remaining budget (maxTxnOps - opc).
  for (const op of r.success) {
    const code = checkOp(op, maxTxnOps - opc);
    if (code !== undefined) return code;
  }
  for (const op of r.failure) {
    const code = checkOp(op, maxTxnOps - opc);
    if (code !== undefined) return code;
  }
  return undefined;
}

function checkOp(op: RequestOp__Output, maxTxnOps: number): Code {
  switch (op.request) {
    case 'request_range':
      return checkRange(op.request_range!);
    case 'request_put':
      return checkPut(op.request_put!);
    case 'request_delete_range':
      return checkDelete(op.request_delete_range!);
    case 'request_txn':
      return checkTxnShape(op.request_txn!, maxTxnOps);
    default:
      return 'KeyNotFound'; // an op with no request set
  }
}

/** A deleted interval [key, end) or, with an empty end, the single key. Keys as latin1 strings. */
interface Interval {
  readonly key: Buffer;
  readonly end: Buffer;
}

function intersects(dels: readonly Interval[], k: Buffer): boolean {
  for (const d of dels) {
    if (d.end.length === 0) {
      if (d.key.equals(k)) return true;
    } else if (Buffer.compare(d.key, k) <= 0 && Buffer.compare(k, d.end) < 0) {
      return true;
    }
  }
  return false;
}

interface Writes {
  readonly puts: Set<string>;
  readonly dels: Interval[];
}

/**
 * etcd's rule: within one branch no key may be put twice or put inside a range deleted at the
 * same or an enclosing level; a nested txn's then/else branches may put the same key (they are
 * exclusive). Returns the branch's writes, or undefined on a duplicate.
 */
function checkIntervals(ops: readonly RequestOp__Output[]): Writes | undefined {
  const dels: Interval[] = [];
  for (const op of ops) {
    const d = op.request_delete_range;
    if (op.request === 'request_delete_range' && d) dels.push({ key: d.key, end: d.range_end });
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.request !== 'request_txn' || !op.request_txn) continue;
    const then = checkIntervals(op.request_txn.success);
    const otherwise = checkIntervals(op.request_txn.failure);
    if (then === undefined || otherwise === undefined) return undefined;
    for (const k of then.puts) {
      if (puts.has(k) || intersects(dels, Buffer.from(k, 'latin1'))) return undefined;
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) return undefined;
      if (intersects(dels, Buffer.from(k, 'latin1'))) return undefined;
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    const p = op.request_put;
    if (op.request !== 'request_put' || !p) continue;
    const k = p.key.toString('latin1');
    if (puts.has(k) || intersects(dels, p.key)) return undefined;
    puts.add(k);
  }
  return { puts, dels };
}

/**
 * etcd's types.NewURLs: non-empty list; each URL http/https/unix/unixs, host:port, no path.
 * (Fragments of Go's url.Parse that matter: query and fragment are allowed; a path is not.)
 */
export function checkPeerURLs(urls: readonly string[]): Code {
  if (urls.length === 0) return 'MemberBadURLs';
  for (const raw of urls) {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      return 'MemberBadURLs';
    }
    if (!['http:', 'https:', 'unix:', 'unixs:'].includes(u.protocol)) return 'MemberBadURLs';
    if (!/^(\[[^\]]*\]|[^:[\]]*):[0-9]*$/.test(hostPort(raw.trim()))) return 'MemberBadURLs';
    if (u.pathname !== '' && u.pathname !== '/') return 'MemberBadURLs';
    if (u.pathname === '/' && /^[a-z]+:\/\/[^/?#]*\//i.test(raw.trim())) return 'MemberBadURLs';
  }
  return undefined;
}

/** The authority part as written (WHATWG URL drops default ports, Go keeps them). */
function hostPort(raw: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(raw);
  const authority = m ? m[1]! : '';
  const at = authority.lastIndexOf('@');
  return at >= 0 ? authority.slice(at + 1) : authority;
}
