/*
 * Proposals in flight: ids, waiters, the hang guard (request timeout) and the queue of proposals
 * that arrived while there was no leader (etcd blocks those until a leader appears or time runs out).
 * Deadlines are checked by the server's housekeeping tick, not one timer per request.
 */
import { WaitRegistry } from '../pkg/wait.js';
import { EtcdError } from './errors.js';

/** Proposals held while no leader is known, at most. */
export const NO_LEADER_QUEUE_MAX = 10_000;

export class Proposals<T> {
  readonly waits = new WaitRegistry<T | EtcdError>();
  /** Deadlines in order (one timeout for all, so arrival order is deadline order); head = first live. */
  private deadlines: Array<{ id: bigint; at: number }> = [];
  private head = 0;
  private held: Array<{ id: bigint; data: Uint8Array }> = [];

  constructor(private readonly timeoutMs: number) {}

  /** Registers a waiter; the returned promise resolves with the applied result or rejects. */
  register(id: bigint, nowMs: number): Promise<T> {
    const p = this.waits.register(id);
    this.deadlines.push({ id, at: nowMs + this.timeoutMs });
    return p.then((r) => {
      if (r instanceof EtcdError) throw r;
      return r;
    });
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
    let failed = 0;
    while (this.head < this.deadlines.length && this.deadlines[this.head]!.at <= nowMs) {
      const { id } = this.deadlines[this.head++]!;
      if (!this.waits.isRegistered(id)) continue;
      this.waits.fail(id, new EtcdError('Timeout'));
      failed += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.deadlines.length) {
      this.deadlines = this.deadlines.slice(this.head);
      this.head = 0;
    }
    if (failed > 0) this.held = this.held.filter((h) => this.waits.isRegistered(h.id));
    return failed;
  }

  failAll(err: EtcdError): void {
    this.held = [];
    this.waits.failAll(err);
  }
}
