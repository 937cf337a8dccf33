/*
 * The KV and Lease halves of the facade: admission (quota), proposal or local read, and the pb
 * response with its header. Reads are linearizable through ReadIndex unless `serializable`.
 */
import type { AuthInfo } from '../auth/index.js';
import { LeaseError, isLeaseError, pickLeaseId } from '../lease/index.js';
import { MvccError } from '../mvcc/index.js';
import type { CompactionRequest__Output } from '../pb/etcdserverpb/CompactionRequest.js';
import type { CompactionResponse } from '../pb/etcdserverpb/CompactionResponse.js';
import type { DeleteRangeRequest__Output } from '../pb/etcdserverpb/DeleteRangeRequest.js';
import type { DeleteRangeResponse } from '../pb/etcdserverpb/DeleteRangeResponse.js';
import type { LeaseGrantRequest__Output } from '../pb/etcdserverpb/LeaseGrantRequest.js';
import type { LeaseGrantResponse } from '../pb/etcdserverpb/LeaseGrantResponse.js';
import type { LeaseKeepAliveRequest__Output } from '../pb/etcdserverpb/LeaseKeepAliveRequest.js';
import type { LeaseKeepAliveResponse } from '../pb/etcdserverpb/LeaseKeepAliveResponse.js';
import type { LeaseLeasesResponse } from '../pb/etcdserverpb/LeaseLeasesResponse.js';
import type { LeaseRevokeRequest__Output } from '../pb/etcdserverpb/LeaseRevokeRequest.js';
import type { LeaseRevokeResponse } from '../pb/etcdserverpb/LeaseRevokeResponse.js';
import type { LeaseTimeToLiveRequest__Output } from '../pb/etcdserverpb/LeaseTimeToLiveRequest.js';
import type { LeaseTimeToLiveResponse } from '../pb/etcdserverpb/LeaseTimeToLiveResponse.js';
import type { PutRequest__Output } from '../pb/etcdserverpb/PutRequest.js';
import type { PutResponse } from '../pb/etcdserverpb/PutResponse.js';
import type { RangeRequest__Output } from '../pb/etcdserverpb/RangeRequest.js';
import type { RangeResponse } from '../pb/etcdserverpb/RangeResponse.js';
import type { ResponseHeader } from '../pb/etcdserverpb/ResponseHeader.js';
import type { TxnRequest__Output } from '../pb/etcdserverpb/TxnRequest.js';
import type { TxnResponse } from '../pb/etcdserverpb/TxnResponse.js';
import { leaseToEtcdError, mvccToEtcdError, requestCost } from './apply-v3.js';
import { EtcdError } from './errors.js';
import type { InternalRaftRequest } from './internal-request.js';
import type { ApplyOutcome, EtcdServer } from './server.js';
import { big, deleteToPb, leaseIdToWire, putToPb, rangeToPb, toMvccRange, toMvccTxn, txnToPb } from './v3-convert.js';

function expect<K extends ApplyOutcome['kind']>(r: ApplyOutcome, kind: K): Extract<ApplyOutcome, { kind: K }> {
  if (r.kind !== kind) throw new Error(`apply returned ${r.kind}, expected ${kind}`);
  return r as Extract<ApplyOutcome, { kind: K }>;
}

export function isReadOnlyTxn(t: TxnRequest__Output): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.every((op) => op.request_range || (op.request_txn && isReadOnlyTxn(op.request_txn)));
}

export function isSerializableTxn(t: TxnRequest__Output): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.every((op) => (op.request_range ? op.request_range.serializable : op.request_txn ? isSerializableTxn(op.request_txn) : true));
}

export class V3Kv {
  // the decimal forms of the ids every response header carries, made once
  private clusterId = -1n;
  private memberId = -1n;
  private clusterIdText = '';
  private memberIdText = '';

  constructor(private readonly s: EtcdServer) {}

  header(revision = this.s.kv.rev()): ResponseHeader {
    const s = this.s;
    if (s.clusterId !== this.clusterId) this.clusterIdText = (this.clusterId = s.clusterId).toString();
    if (s.memberId !== this.memberId) this.memberIdText = (this.memberId = s.memberId).toString();
    return { cluster_id: this.clusterIdText, member_id: this.memberIdText, revision, raft_term: s.term };
  }

  /** Quota admission before proposing (etcd's quota KV server): over quota raises NOSPACE. */
  private proposeWrite(req: Omit<InternalRaftRequest, 'header'>, ai?: AuthInfo): Promise<ApplyOutcome> {
    if (this.s.alarms.has('NOSPACE')) return Promise.reject(new EtcdError('NoSpace'));
    if (this.s.overQuota(requestCost(req))) {
      this.s.propose({ alarm: { action: 'ACTIVATE', memberID: this.s.memberId.toString(), alarm: 'NOSPACE' } }).catch(() => undefined);
      return Promise.reject(new EtcdError('NoSpace'));
    }
    return this.s.propose(req, ai);
  }

  async range(req: RangeRequest__Output): Promise<RangeResponse> {
    if (!req.serializable) await this.s.readIndexer.waitLinearizable();
    return this.rangeNow(req);
  }

  /**
   * The range as this member holds it now: the caller waited for ReadIndex when it had to (with
   * auth, etcd's Range waits before it checks the caller's permission, so the check sees every auth
   * change committed before the request).
   */
  async rangeNow(req: RangeRequest__Output): Promise<RangeResponse> {
    if (this.s.restoring) await this.s.restoring;
    try {
      const r = this.s.kv.range(req.key, req.range_end.length === 0 ? undefined : req.range_end, toMvccRange(req));
      return rangeToPb(r, this.header(r.revision));
    } catch (e) {
      throw mvccToEtcdError(e);
    }
  }

  put(req: PutRequest__Output, ai?: AuthInfo): Promise<PutResponse> {
    return this.proposeWrite({ put: req }, ai).then((out) => {
      const r = expect(out, 'put');
      return putToPb(r.result, this.header(r.result.revision));
    });
  }

  async deleteRange(req: DeleteRangeRequest__Output, ai?: AuthInfo): Promise<DeleteRangeResponse> {
    const r = expect(await this.s.propose({ delete_range: req }, ai), 'delete');
    return deleteToPb(r.result, this.header(r.result.revision));
  }

  async txn(req: TxnRequest__Output, ai?: AuthInfo): Promise<TxnResponse> {
    if (isReadOnlyTxn(req)) {
      if (!isSerializableTxn(req)) await this.s.readIndexer.waitLinearizable();
      return this.readTxnNow(req);
    }
    const r = expect(await this.proposeWrite({ txn: req }, ai), 'txn');
    return txnToPb(r.result, this.header(r.result.revision));
  }

  /** A read-only txn as this member holds it now (as rangeNow: the caller waited for ReadIndex). */
  async readTxnNow(req: TxnRequest__Output): Promise<TxnResponse> {
    if (this.s.restoring) await this.s.restoring;
    try {
      const r = this.s.kv.txn(null, toMvccTxn(req));
      return txnToPb(r, this.header(r.revision));
    } catch (e) {
      throw mvccToEtcdError(e);
    }
  }

  async compact(req: CompactionRequest__Output, ai?: AuthInfo): Promise<CompactionResponse> {
    // Checked when applied, as etcd does (a refused compaction still takes a raft entry).
    const r = expect(await this.s.propose({ compaction: req }, ai), 'compact');
    if (req.physical) {
      // `physical` resolves once the deletions are queued in the pending batch; then make them durable.
      await r.physical.catch((e: unknown) => (e instanceof MvccError ? undefined : Promise.reject(e)));
      await this.s.backend.commit();
    }
    return { header: this.header(r.revision) };
  }

  // ---- leases ----

  async leaseGrant(req: LeaseGrantRequest__Output, ai?: AuthInfo): Promise<LeaseGrantResponse> {
    let id = big(req.ID);
    if (id === 0n) id = pickLeaseId(() => this.s.nextRequestId(), (x) => this.s.lessor.has(x));
    const r = expect(await this.proposeWrite({ lease_grant: { ID: BigInt.asIntN(64, id).toString(), TTL: req.TTL } }, ai), 'leaseGrant');
    return { header: this.header(), ID: leaseIdToWire(r.id), TTL: r.ttl, error: '' };
  }

  async leaseRevoke(req: LeaseRevokeRequest__Output, ai?: AuthInfo): Promise<LeaseRevokeResponse> {
    const r = expect(await this.s.propose({ lease_revoke: req }, ai), 'leaseRevoke');
    return { header: this.header(r.revision) };
  }

  async leaseKeepAlive(req: LeaseKeepAliveRequest__Output): Promise<LeaseKeepAliveResponse> {
    const id = big(req.ID);
    const r = this.s.lessor.renew(id, this.s.now());
    if (r === LeaseError.notPrimary) return { header: this.header(), ID: req.ID, TTL: await this.s.leaseForwarder.renew(id) };
    if (isLeaseError(r)) throw leaseToEtcdError(r);
    return { header: this.header(), ID: req.ID, TTL: r.ttl };
  }

  async leaseTimeToLive(req: LeaseTimeToLiveRequest__Output): Promise<LeaseTimeToLiveResponse> {
    if (!this.s.isLeader() && this.s.cluster.size > 1) return this.leaseTimeToLiveAtLeader(req);
    await this.s.readIndexer.waitLinearizable();
    const r = this.s.lessor.timeToLive(big(req.ID), this.s.now());
    if (isLeaseError(r)) return { header: this.header(), ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
    return { header: this.header(), ID: req.ID, TTL: r.ttl, grantedTTL: r.grantedTTL, keys: req.keys ? r.keys.map((k) => Buffer.from(k)) : [] };
  }

  /** A follower asks the leader, whose lessor knows the remaining time (etcd's LeaseTimeToLive). */
  private async leaseTimeToLiveAtLeader(req: LeaseTimeToLiveRequest__Output): Promise<LeaseTimeToLiveResponse> {
    try {
      const r = await this.s.leaseForwarder.timeToLive(big(req.ID), req.keys);
      return { header: this.header(), ID: req.ID, TTL: r.ttl, grantedTTL: r.grantedTTL, keys: r.keys.map((k) => Buffer.from(k)) };
    } catch (err) {
      if (err instanceof EtcdError && err.code === 'LeaseNotFound') return { header: this.header(), ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
      throw err;
    }
  }

  async leaseLeases(): Promise<LeaseLeasesResponse> {
    await this.s.readIndexer.waitLinearizable();
    return { header: this.header(), leases: this.s.lessor.leases().map((l) => ({ ID: leaseIdToWire(l.id) })) };
  }
}
