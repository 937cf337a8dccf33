// What the leader knows of one follower's log: match/next and the probe/replicate/snapshot state machine.
import { Inflights } from './inflights.js';

export enum ProgressStateType {
  StateProbe = 0,
  StateReplicate = 1,
  StateSnapshot = 2,
}

export class Progress {
  match = 0;
  next: number;
  state = ProgressStateType.StateProbe;
  /** Index of the snapshot being sent (StateSnapshot). */
  pendingSnapshot = 0;
  /** Heard from in the current CheckQuorum window. */
  recentActive = true;
  /** StateProbe: one append is outstanding; wait for its answer or a heartbeat response. */
  probeSent = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressStateType): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressStateType.StateSnapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressStateType.StateProbe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressStateType.StateProbe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressStateType.StateReplicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshoti: number): void {
    this.resetState(ProgressStateType.StateSnapshot);
    this.pendingSnapshot = snapshoti;
  }

  /** An append up to n was acknowledged. Returns false when n is stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /** An append at `rejected` was refused; matchHint is the follower's best guess. False if stale. */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressStateType.StateReplicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressStateType.StateProbe:
        return this.probeSent;
      case ProgressStateType.StateReplicate:
        return this.inflights.full();
      default:
        return true;
    }
  }

  stateName(): string {
    return ProgressStateType[this.state];
  }
}
