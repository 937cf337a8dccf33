// The raft library's coded errors, with etcd's texts, so callers and logs read as they do with etcd.
import { InvariantError } from '../pkg/invariant.js';

/** Storage: the requested index is before the first available entry (compacted away). */
export class ErrCompacted extends Error {
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}

/** Storage: a snapshot at or before the storage's own snapshot was offered. */
export class ErrSnapOutOfDate extends Error {
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}

/** Storage: the requested index is after the last available entry. */
export class ErrUnavailable extends Error {
  constructor() {
    super('requested entry at index is unavailable');
  }
}

/** Storage: the snapshot is being made; the leader should retry later. */
export class ErrSnapshotTemporarilyUnavailable extends Error {
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** A proposal (or conf change) was dropped: no leader known, leadership transfer, or size limit. */
export class ErrProposalDropped extends Error {
  constructor() {
    super('raft proposal dropped');
  }
}

/** A local-only message type (MsgHup, MsgBeat, ...) arrived through RawNode.step. */
export class ErrStepLocalMsg extends Error {
  constructor() {
    super('raft: cannot step raft local message');
  }
}

/** A response message arrived from a node that is not in the configuration. */
export class ErrStepPeerNotFound extends Error {
  constructor() {
    super('raft: cannot step as peer not found');
  }
}

/** A broken invariant inside raft: the node must stop (as etcd's raft panics). */
export class RaftInvariantError extends InvariantError {
  override name = 'RaftInvariantError';
  constructor(message: string) {
    super('raft', message);
  }
}

export function invariant(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new RaftInvariantError(msg);
}
