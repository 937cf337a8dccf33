/*
 * Lease calls that only the leader can answer (its lessor is the primary one): a keep-alive or a
 * time-to-live arriving at a follower is posted to the leader's peer URLs (/leases, /leases/internal),
 * as etcd 3.4's LeaseRenew and LeaseTimeToLive do, retrying every 50 ms until the request timeout.
 */
import {
  decodeLeaseInternalResponse, decodeLeaseKeepAliveResponse, encodeLeaseInternalRequest, encodeLeaseKeepAliveRequest, type LeaseTimeToLive,
} from '../codec/lease-peer.js';
import { sleep, type Clock } from '../pkg/clock.js';
import { None } from '../raft/types.js';
import { EtcdError } from './errors.js';
import type { Peers } from './peers.js';

export interface LeaseForwardDeps {
  peers(): Peers;
  leader(): bigint;
  memberId: bigint;
  requestTimeoutMs: number;
  /** Resolves when a leader is known (or rejects with the request timeout). */
  waitLeader(deadlineMs: number): Promise<bigint>;
  clock: Clock;
}

const RETRY_MS = 50;

export class LeaseForwarder {
  constructor(private readonly d: LeaseForwardDeps) {}

  /** The leader's answer to a keep-alive: the TTL; EtcdError LeaseNotFound or Timeout. */
  async renew(id: bigint): Promise<number> {
    const r = await this.forward('/leases', encodeLeaseKeepAliveRequest(id));
    return decodeLeaseKeepAliveResponse(r).ttl;
  }

  async timeToLive(id: bigint, keys: boolean): Promise<LeaseTimeToLive> {
    return decodeLeaseInternalResponse(await this.forward('/leases/internal', encodeLeaseInternalRequest({ id, keys })));
  }

  private async forward(path: string, body: Uint8Array): Promise<Uint8Array> {
    const deadline = this.d.clock.now() + this.d.requestTimeoutMs;
    while (this.d.clock.now() < deadline) {
      const leader = await this.d.waitLeader(deadline);
      if (leader !== None && leader !== this.d.memberId) {
        try {
          const r = await this.d.peers().postToMember(leader, path, body, Math.max(1, deadline - this.d.clock.now()));
          if (r.status === 200) return r.body;
          if (r.status === 404) throw new EtcdError('LeaseNotFound');
        } catch (err) {
          if (err instanceof EtcdError) throw err;
        }
      }
      await sleep(this.d.clock, RETRY_MS);
    }
    throw new EtcdError('Timeout');
  }
}
