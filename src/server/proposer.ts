/*
 * Proposing: a request id per proposal, its waiter, and the queue that hands raft every proposal
 * made in one turn of the event loop as one batch (one MsgProp, most of raft's cost per write).
 * Proposals made while no leader is known are held (Proposals.hold) until one is (releaseHeld).
 */
import type { AuthInfo } from '../auth/index.js';
import type { IdGenerator } from '../pkg/idgen.js';
import { ErrProposalDropped } from '../raft/index.js';
import type { ConfChange } from '../raft/types.js';
import type { ApplyOutcome } from './apply.js';
import { EtcdError } from './errors.js';
import { encodeRequest, encodeV2Request, type InternalRaftRequest, type V2Request } from './internal-request.js';
import type { Proposals } from './proposals.js';
import { mark, Stage, TRACE_PUT } from '../pkg/put-trace.js';

export interface ProposerDeps {
  readonly idGen: IdGenerator;
  readonly proposals: Proposals<ApplyOutcome>;
  readonly maxRequestBytes: number;
  readonly requestTimeoutMs: number;
  /** The clock of proposal deadlines (ms). */
  now(): number;
  /** The clock of the wait for a leader (ms). */
  clockNow(): number;
  hasLeader(): boolean;
  stopping(): boolean;
  /** Resolves once a leader is known; rejects at the deadline (ms). */
  waitLeader(deadlineMs: number): Promise<bigint>;
  /** Hands raft many entries as one message (all or none); throws ErrProposalDropped. */
  proposeBatch(datas: Uint8Array[]): void;
  proposeConfChange(cc: ConfChange): void;
  kick(): void;
}

export class Proposer {
  // this turn's proposals: their ids and entry data, side by side (the data array goes to raft as is)
  private unproposedIds: bigint[] = [];
  private unproposedData: Uint8Array[] = [];

  constructor(private readonly d: ProposerDeps) {}

  /**
   * Proposes a v3 request (an InternalRaftRequest, its header's ID the request id) and resolves with
   * its applied result (EtcdError rejects). As etcd's processInternalRaftRequestOnce, a request whose
   * marshalled bytes (what encodeRequest gives) exceed --max-request-bytes is refused.
   */
  propose(req: Omit<InternalRaftRequest, 'header'>, ai?: AuthInfo): Promise<ApplyOutcome> {
    if (this.d.stopping()) return Promise.reject(new EtcdError('Stopped'));
    const id = this.d.idGen.next();
    const header: InternalRaftRequest['header'] = ai ? { ID: id.toString(), username: ai.username, auth_revision: String(ai.revision) } : { ID: id.toString() };
    const data = encodeRequest({ header, ...req });
    if (data.length > this.d.maxRequestBytes) return Promise.reject(new EtcdError('RequestTooLarge'));
    const result = this.d.proposals.register(id, this.d.now());
    if (TRACE_PUT) mark(Stage.propose);
    this.submit(id, data);
    return result;
  }

  /**
   * Proposes a bare v2 Request (its ID the request id), as etcd does for /v2/keys writes, SYNC, the
   * member's publication and the cluster version: never refused for its size (etcd's v2 path is not).
   */
  proposeV2(req: V2Request): Promise<ApplyOutcome> {
    if (this.d.stopping()) return Promise.reject(new EtcdError('Stopped'));
    const id = this.d.idGen.next();
    const data = encodeV2Request({ ...req, ID: id });
    const result = this.d.proposals.register(id, this.d.now());
    this.submit(id, data);
    return result;
  }

  /** Proposes a conf change under a fresh proposal id; resolves once applied (an EtcdError: refused). */
  async proposeConfChange(cc: ConfChange): Promise<void> {
    if (this.d.stopping()) throw new EtcdError('Stopped');
    await this.d.waitLeader(this.d.clockNow() + this.d.requestTimeoutMs);
    const id = this.d.idGen.next();
    const result = this.d.proposals.register(id, this.d.now());
    try {
      this.d.proposeConfChange({ ...cc, id });
    } catch (err) {
      if (!(err instanceof ErrProposalDropped)) throw err; // etcd: the caller's wait runs out
    }
    this.d.kick();
    await result;
  }

  /** A leader is known: the proposals held meanwhile go to raft, in arrival order. */
  releaseHeld(): void {
    for (const h of this.d.proposals.takeHeld()) this.submit(h.id, h.data);
  }

  /**
   * Queues a proposal; every proposal made in the same turn of the event loop goes to raft as one
   * batch (one MsgProp), which is most of raft's cost per write.
   */
  private submit(id: bigint, data: Uint8Array): void {
    if (!this.d.hasLeader()) {
      this.d.proposals.hold(id, data);
      return;
    }
    this.unproposedIds.push(id);
    this.unproposedData.push(data);
    if (this.unproposedIds.length === 1) queueMicrotask(this.proposeQueued);
  }

  private readonly proposeQueued = (): void => {
    const ids = this.unproposedIds;
    const datas = this.unproposedData;
    this.unproposedIds = [];
    this.unproposedData = [];
    if (ids.length === 0 || this.d.stopping()) return;
    if (TRACE_PUT) mark(Stage.raftPropose);
    try {
      this.d.proposeBatch(datas);
    } catch (err) {
      if (!(err instanceof ErrProposalDropped)) throw err;
      for (let i = 0; i < ids.length; i++) this.d.proposals.hold(ids[i]!, datas[i]!);
    }
  };
}
