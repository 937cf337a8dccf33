/*
 * Proposals in flight: ids, waiters, the hang guard (request timeout) and the queue of proposals
 * that arrived while there was no leader (etcd blocks those until a leader appears or time runs out).
 * Deadlines live in the waiters and are checked by the server's housekeeping tick, not one timer per
 * request.
 */
import { WaitRegistry } from '../pkg/wait.js';
import { EtcdError } from './errors.js';

/** Proposals held while no leader is known, at most. */
export const NO_LEADER_QUEUE_MAX = 10_000;

export class Proposals<T> {
  readonly waits = new WaitRegistry<T>();
  private held: Array<{ id: bigint; data: Uint8Array }> = [];

  constructor(private readonly timeoutMs: number) {}

  /** Registers a waiter; the returned promise resolves with the applied result or rejects. */
  register(id: bigint, nowMs: number): Promise<T> {
    // one timeout for all: registration order is deadline order, as waits.expire() needs
    return this.waits.register(id, nowMs + this.timeoutMs);
  }

  hold(id: bigint, data: Uint8Array): void {
    if (this.held.length >= NO_LEADER_QUEUE_MAX) {
      this.waits.fail(id, new EtcdError('TooManyRequests'));
      return;
    }
    this.held.push({ id, data });
  }

  /** Proposals waiting for a leader, in arrival order (the queue is emptied). */
  takeHeld(): Array<{ id: bigint; data: Uint8Array }> {
    const out = this.held;
    this.held = [];
    return out;
  }

  /** Fails every proposal whose deadline passed. Returns how many failed. */
  expire(nowMs: number): number {
    const failed = this.waits.expire(nowMs, () => new EtcdError('Timeout'));
    if (failed > 0) this.held = this.held.filter((h) => this.waits.isRegistered(h.id));
    return failed;
  }

  failAll(err: EtcdError): void {
    this.held = [];
    this.waits.failAll(err);
  }
}
