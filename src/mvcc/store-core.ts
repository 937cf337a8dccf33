// The state every part of the store shares (index, backend, revisions, lease hook, watch fan-out).
import type { Backend } from '../backend/index.js';
import type { Logger } from '../pkg/logger.js';
import { TreeIndex } from './key-index.js';
import type { Event, LeaseIndex } from './types.js';

export type CommitListener = (events: Event[], rev: number) => void;

export class StoreCore {
  /** Replaced whole when the store is restored from another backend state (KvStore.restore). */
  index = new TreeIndex();
  currentRev = 1;
  /** -1 until the first compaction, as etcd. */
  compactRev = -1;
  private txnOpen = false;
  /** Operations so far, as etcd's mvcc metrics count them (a txn: more than one operation). */
  readonly ops = { puts: 0, ranges: 0, deletes: 0, txns: 0, putBytes: 0 };
  /** Keys with a live value (etcd's etcd_debugging_mvcc_keys_total); recounted when the store loads. */
  liveKeys = 0;
  /** Told the timings and counts of rare operations (compaction, hash) by etcd's family name. */
  metricsHook: ((family: string, value: number) => void) | undefined;
  readonly listeners: CommitListener[] = [];

  constructor(
    readonly backend: Backend,
    readonly leases: LeaseIndex | undefined,
    readonly logger: Logger | undefined,
  ) {}

  /** Only one write txn at a time; holds backend flushing while open. Returns the release. */
  beginTxn(): () => void {
    if (this.txnOpen) throw new Error('mvcc: a write txn is already open');
    this.txnOpen = true;
    const releaseHold = this.backend.hold();
    return () => {
      this.txnOpen = false;
      releaseHold();
    };
  }

  notify(events: Event[], rev: number): void {
    for (const l of this.listeners) l(events, rev);
  }
}
