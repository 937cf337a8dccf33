// Txn with etcd 3.4's order: every compare (nested ones too) is evaluated against the state before the
// txn; the chosen ops are checked (key present for ignore_value/ignore_lease, lease exists, range
// revisions) before anything is written, so a failing check leaves no partial txn; then the ops run in
// order in one write txn, at one revision.
import { MvccError } from './errors.js';
import { spanContains, toSpan, type KeySpan } from './key-index.js';
import { liveKv } from './range.js';
import type { StoreCore } from './store-core.js';
import type { Compare, KeyValue, RequestOp, ResponseOp, TxnRequest, TxnResult } from './types.js';
import { WriteTxn } from './write-txn.js';

/** Which branch each (nested) txn takes: [outer succeeded, then nested txns in op order]. */
type Path = boolean[];

function compareInt(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target) {
    case 'VALUE': r = Buffer.compare(kv.value, c.value ?? Buffer.alloc(0)); break;
    case 'VERSION': r = compareInt(kv.version, c.version ?? 0); break;
    case 'CREATE': r = compareInt(kv.createRevision, c.createRevision ?? 0); break;
    case 'MOD': r = compareInt(kv.modRevision, c.modRevision ?? 0); break;
    case 'LEASE': r = compareInt(kv.lease, c.lease ?? 0n); break;
    default: r = 0; // a target etcd does not know (a bad enum number) leaves its compareKV result at 0
  }
  switch (c.result) {
    case 'EQUAL': return r === 0;
    case 'NOT_EQUAL': return r !== 0;
    case 'GREATER': return r > 0;
    case 'LESS': return r < 0;
    default: return true; // an unknown result holds, as in etcd's compareKV
  }
}

const zeroKv: KeyValue = { key: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n };

export function applyCompare(store: StoreCore, c: Compare): boolean {
  let any = false;
  for (const ki of store.index.range(toSpan(c.key, c.rangeEnd))) {
    if (!ki.hasValue()) continue;
    any = true;
    if (!compareKv(c, liveKv(ki))) return false;
  }
  if (!any) return c.target !== 'VALUE' && compareKv(c, zeroKv);
  return true;
}

function compareToPath(store: StoreCore, req: TxnRequest, path: Path): void {
  const ok = req.compare.every((c) => applyCompare(store, c));
  path.push(ok);
  for (const op of ok ? req.success : req.failure) if ('txn' in op) compareToPath(store, op.txn, path);
}

/**
 * etcd's checkRequests, run twice over the chosen ops (nested txns included): every put first (only
 * in a txn that writes), then every range, so a put's error wins over an earlier range's.
 */
function checkOps(store: StoreCore, req: TxnRequest, path: Path, writable: boolean): void {
  if (writable) checkChosen(store, req, path, { i: 0 }, 'put', []);
  checkChosen(store, req, path, { i: 0 }, 'range', []);
}

/**
 * Whether `key` is live where a put of the txn runs: before the txn, unless a delete that came earlier
 * in the txn covers it. (etcd's duplicate-key check rejects any other earlier put or delete of the
 * key, but not a from-key delete, range_end "\0"; etcd 3.4 then panics in the middle of the txn, a
 * put with ignore_value/ignore_lease finding its key gone. We refuse the whole txn before any write.)
 */
function liveAtPut(store: StoreCore, key: string, deletes: readonly KeySpan[]): boolean {
  const ki = store.index.get(key);
  return ki !== undefined && ki.hasValue() && !deletes.some((d) => spanContains(d, key));
}

function checkChosen(store: StoreCore, req: TxnRequest, path: Path, at: { i: number }, kind: 'put' | 'range', deletes: KeySpan[]): void {
  const ops = path[at.i++] ? req.success : req.failure;
  for (const op of ops) {
    if ('deleteRange' in op) {
      if (kind === 'put') deletes.push(toSpan(op.deleteRange.key, op.deleteRange.rangeEnd));
    } else if ('put' in op) {
      if (kind !== 'put') continue;
      const p = op.put;
      if ((p.ignoreValue || p.ignoreLease) && !liveAtPut(store, p.key.toString('latin1'), deletes)) throw new MvccError('key-not-found');
      const lease = p.lease ?? 0n;
      if (!p.ignoreLease && lease !== 0n && store.leases && !store.leases.exists(lease)) throw new MvccError('lease-not-found');
    } else if ('range' in op) {
      if (kind !== 'range') continue;
      const rev = op.range.revision ?? 0;
      if (rev > 0 && rev > store.currentRev) throw new MvccError('future-rev');
      // etcd's checkRequestRange: any revision but 0 below the first one (the compact revision, -1
      // before any compaction) is compacted, negative ones included
      if (rev !== 0 && rev < store.compactRev) throw new MvccError('compacted', store.compactRev);
    } else if ('txn' in op) checkChosen(store, op.txn, path, at, kind, deletes);
  }
}

export function isTxnReadOnly(req: TxnRequest): boolean {
  const ro = (ops: RequestOp[]): boolean => ops.every((op) => 'range' in op || ('txn' in op && isTxnReadOnly(op.txn)));
  return ro(req.success) && ro(req.failure);
}

function runOps(w: WriteTxn, req: TxnRequest, path: Path, at: { i: number }): TxnResult {
  const succeeded = path[at.i++]!;
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? req.success : req.failure) {
    if ('range' in op) responses.push({ range: w.range(op.range.key, op.range.rangeEnd, op.range) });
    else if ('put' in op) {
      const p = op.put;
      responses.push({ put: w.put(p.key, p.value, p.lease ?? 0n, p) });
    } else if ('deleteRange' in op) responses.push({ deleteRange: w.deleteRange(op.deleteRange.key, op.deleteRange.rangeEnd, op.deleteRange) });
    else responses.push({ txn: runOps(w, op.txn, path, at) });
  }
  return { succeeded, responses, revision: w.viewRev() };
}

/**
 * Apply a Txn. raftIndex null = a local read-only txn (throws if the txn writes). Domain failures
 * (MvccError) are thrown before any change; the consistent index still advances for a raft entry.
 */
export function applyTxn(store: StoreCore, raftIndex: number | null, req: TxnRequest): TxnResult {
  const readOnly = isTxnReadOnly(req);
  if (raftIndex === null && !readOnly) throw new Error('mvcc: a writing txn needs a raft index');
  const path: Path = [];
  compareToPath(store, req, path);
  const w = new WriteTxn(store, raftIndex);
  let result: TxnResult;
  try {
    checkOps(store, req, path, !readOnly);
    result = runOps(w, req, path, { i: 0 });
  } finally {
    const rev = w.end();
    // header revision: the txn's revision when it wrote, else the store's
    result = result! && { ...result, revision: rev };
  }
  return result;
}
