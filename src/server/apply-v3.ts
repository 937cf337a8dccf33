/*
 * The v3 applier: one replicated request → its result, the same on every member. Runs inside the apply
 * loop, synchronously, with the entry's raft index recorded as the backend's consistent index in the
 * same batch as the changes. Domain outcomes are returned as EtcdError values (never thrown), so the
 * proposer's waiter gets them and other members ignore them.
 *
 * Wrapped as etcd wraps its applier: a NOSPACE alarm (or a request that would pass the quota) makes
 * writes fail with NoSpace; deletes, compactions and revokes still apply (they free space).
 */
import type { AssignedToken, KeyPermission } from '../auth/index.js';
import type { Backend } from '../backend/index.js';
import type { Logger } from '../pkg/logger.js';
import type { Lessor } from '../lease/index.js';
import { isLeaseError, type LeaseError } from '../lease/index.js';
import { MvccError, type KvStore } from '../mvcc/index.js';
import type * as mvcc from '../mvcc/types.js';
import type { AlarmStore, AlarmType } from './alarms.js';
import { EtcdError, type EtcdErrorCode } from './errors.js';
import type { InternalRaftRequest } from './internal-request.js';
import { big, num, toMvccDelete, toMvccPut, toMvccTxn } from './v3-convert.js';

export type V3Result =
  | { kind: 'put'; result: mvcc.PutResult }
  | { kind: 'delete'; result: mvcc.DeleteRangeResult }
  | { kind: 'txn'; result: mvcc.TxnResult }
  | { kind: 'compact'; revision: number; physical: Promise<void> }
  | { kind: 'leaseGrant'; id: bigint; ttl: number }
  | { kind: 'leaseRevoke'; revision: number }
  | { kind: 'alarm'; alarms: Array<{ memberId: bigint; alarm: AlarmType }> }
  | AuthResult
  | { kind: 'none' };

/** What an applied auth request answers (the facade builds the response from it). */
export interface AuthResult {
  kind: 'auth';
  /** Authenticate's token; a JWT is signed by the proposer calling it. */
  token?: AssignedToken;
  names?: string[];
  perms?: KeyPermission[];
}

export interface V3ApplierDeps {
  kv: KvStore;
  lessor: Lessor;
  backend: Backend;
  alarms: AlarmStore;
  quotaBytes: number;
  /** The wall clock of this member (lease expiry bookkeeping; never part of the applied result). */
  now: () => number;
  logger?: Logger;
}

const MVCC_CODES: Record<MvccError['code'], EtcdErrorCode> = {
  compacted: 'Compacted',
  'future-rev': 'FutureRev',
  'key-not-found': 'KeyNotFound',
  'lease-not-found': 'LeaseNotFound',
  'watch-id-exists': 'DuplicateKey',
};

const LEASE_CODES: Record<LeaseError['code'], EtcdErrorCode> = {
  'lease-not-found': 'LeaseNotFound',
  'lease-exists': 'LeaseExist',
  'lease-ttl-too-large': 'LeaseTTLTooLarge',
  'not-primary': 'NotLeader',
  'lease-expired': 'LeaseNotFound',
};

export function mvccToEtcdError(e: unknown): EtcdError {
  if (e instanceof MvccError) return new EtcdError(MVCC_CODES[e.code]);
  throw e;
}

export function leaseToEtcdError(e: LeaseError): EtcdError {
  return new EtcdError(LEASE_CODES[e.code]);
}

/** Approximate bytes a request adds to the backend (etcd's quota cost: key + value + overhead). */
export function requestCost(req: Omit<InternalRaftRequest, 'header'>): number {
  const OVERHEAD = 256;
  if (req.put) return req.put.key.length + req.put.value.length + OVERHEAD;
  if (req.txn) {
    let cost = 0;
    for (const op of [...req.txn.success, ...req.txn.failure]) if (op.request_put) cost += op.request_put.key.length + op.request_put.value.length + OVERHEAD;
    return cost;
  }
  if (req.lease_grant) return OVERHEAD;
  return 0;
}

function txnWrites(t: mvcc.TxnRequest): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.some((op) => 'put' in op || ('txn' in op && txnWrites(op.txn)));
}

export class V3Applier {
  constructor(private readonly d: V3ApplierDeps) {}

  /** True when a write of this cost must be refused for space. */
  overQuota(cost: number): boolean {
    return cost > 0 && this.d.backend.size() + cost > this.d.quotaBytes;
  }

  apply(index: number, req: InternalRaftRequest): V3Result | EtcdError {
    const noSpace = this.d.alarms.has('NOSPACE') || this.overQuota(requestCost(req));
    try {
      if (req.put) {
        if (noSpace) return this.fail(index, 'NoSpace');
        return { kind: 'put', result: this.d.kv.put(index, toMvccPut(req.put)) };
      }
      if (req.delete_range) return { kind: 'delete', result: this.d.kv.deleteRange(index, toMvccDelete(req.delete_range)) };
      if (req.txn) {
        const t = toMvccTxn(req.txn);
        if (noSpace && txnWrites(t)) return this.fail(index, 'NoSpace');
        return { kind: 'txn', result: this.d.kv.txn(index, t) };
      }
      if (req.compaction) {
        const rev = num(req.compaction.revision);
        const { done } = this.d.kv.compact(index, rev);
        done.catch(() => undefined);
        return { kind: 'compact', revision: this.d.kv.rev(), physical: done };
      }
      if (req.lease_grant) return this.leaseGrant(index, req, noSpace);
      if (req.lease_revoke) return this.leaseRevoke(index, big(req.lease_revoke.ID));
      if (req.alarm) return this.alarm(index, req);
      if (req.lease_checkpoint) {
        for (const c of req.lease_checkpoint.checkpoints) this.d.lessor.checkpoint(big(c.ID), num(c.remaining_TTL), this.d.now());
        this.d.backend.setConsistentIndex(index);
        return { kind: 'none' };
      }
    } catch (e) {
      return mvccToEtcdError(e);
    }
    this.d.backend.setConsistentIndex(index);
    return { kind: 'none' };
  }

  private fail(index: number, code: EtcdErrorCode): EtcdError {
    this.d.backend.setConsistentIndex(index);
    return new EtcdError(code);
  }

  private leaseGrant(index: number, req: InternalRaftRequest, noSpace: boolean): V3Result | EtcdError {
    if (noSpace) return this.fail(index, 'NoSpace');
    const g = req.lease_grant!;
    const r = this.d.lessor.grant(big(g.ID), num(g.TTL), this.d.now());
    this.d.backend.setConsistentIndex(index);
    if (isLeaseError(r)) return leaseToEtcdError(r);
    return { kind: 'leaseGrant', id: r.id, ttl: r.ttl };
  }

  /** All keys of the lease go at one revision, in the same batch as the lease record. */
  private leaseRevoke(index: number, id: bigint): V3Result | EtcdError {
    const keys = this.d.lessor.revoke(id);
    if (isLeaseError(keys)) {
      this.d.backend.setConsistentIndex(index);
      return leaseToEtcdError(keys);
    }
    const w = this.d.kv.write(index);
    try {
      for (const k of keys) w.deleteRange(Buffer.from(k), undefined);
    } finally {
      w.end();
    }
    return { kind: 'leaseRevoke', revision: this.d.kv.rev() };
  }

  private alarm(index: number, req: InternalRaftRequest): V3Result {
    const a = req.alarm!;
    const target = { memberId: big(a.memberID), alarm: a.alarm as AlarmType };
    if (a.action === 'ACTIVATE' && target.alarm !== 'NONE' && this.d.alarms.activate(target)) {
      this.d.logger?.warn({ alarm: target.alarm, from: target.memberId.toString(16) }, 'alarm raised');
    }
    if (a.action === 'DEACTIVATE') this.d.alarms.deactivate(target);
    this.d.backend.setConsistentIndex(index);
    const alarms = a.action === 'GET' ? this.d.alarms.list(target.memberId, target.alarm) : [target];
    return { kind: 'alarm', alarms };
  }
}
