/**
 * Domain errors of the etcd server, as coded values.
 *
 * The server (and everything it wires) throws `EtcdError` with one of the codes below for an
 * outcome a client must see (compacted revision, lease not found, no leader, ...). The API layers
 * never look at the message: src/api/v3/errors.ts maps each code, by one table, to etcd's gRPC
 * status code, etcd's exact message text ("etcdserver: ...") and the gateway HTTP status.
 *
 * The codes are etcd 3.4's error names (rpctypes) without the `ErrGRPC` prefix.
 */
import type { AuthErrorCode } from '../auth/index.js';

export type EtcdErrorCode =
  // KV requests
  | 'EmptyKey' // key is not provided
  | 'KeyNotFound' // key not found (ignore_value / ignore_lease on a missing key; empty txn op)
  | 'ValueProvided'
  | 'LeaseProvided'
  | 'TooManyOps'
  | 'DuplicateKey'
  | 'Compacted' // mvcc: required revision has been compacted
  | 'FutureRev' // mvcc: required revision is a future revision
  | 'NoSpace' // mvcc: database space exceeded (NOSPACE alarm raised)
  // leases
  | 'LeaseNotFound'
  | 'LeaseExist'
  | 'LeaseTTLTooLarge'
  // watch
  | 'WatchCanceled'
  // membership
  | 'MemberExist'
  | 'PeerURLExist'
  | 'MemberNotEnoughStarted'
  | 'MemberBadURLs'
  | 'MemberNotFound'
  | 'MemberRemoved' // membership: ID removed (etcd's ErrIDRemoved: "member not found" over gRPC, 410 on /v2/members)
  | 'MemberNotLearner'
  | 'LearnerNotReady'
  | 'TooManyLearners'
  // request admission
  | 'RequestTooLarge'
  | 'TooManyRequests'
  // auth (NoPasswordUser is not in etcd's gRPC table: Unknown with the auth store's text)
  | AuthErrorCode
  // raft / server availability
  | 'NoLeader'
  | 'NotLeader'
  | 'LeaderChanged'
  | 'NotCapable'
  | 'Stopped'
  | 'Timeout'
  | 'TimeoutDueToLeaderFail'
  | 'TimeoutDueToConnectionLost'
  | 'TimeoutWaitAppliedIndex'
  | 'Unhealthy'
  | 'Corrupt'
  | 'NotSupportedForLearner'
  | 'BadLeaderTransferee'
  | 'TimeoutLeaderTransfer'
  // server-side lock / election services (plain errors in etcd: gRPC code Unknown)
  | 'ElectionNoLeader'
  | 'ElectionNotLeader'
  | 'MissingLeaderKey'
  // the caller went away (context canceled)
  | 'Canceled';

/** A domain outcome. `detail` is for logs only; clients see the text of the API's table. */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  constructor(
    readonly code: EtcdErrorCode,
    detail?: string,
    /**
     * Reach the client with the code's text but as gRPC Unknown / HTTP 500: etcd's Lock and Election
     * services run client recipes inside the server, whose errors surface that way.
     */
    readonly surfacedAsUnknown = false,
  ) {
    super(detail === undefined ? code : `${code}: ${detail}`);
  }
}

/** Runs a Lock/Election call, turning its domain errors into Unknown ones (cancellation excepted). */
export async function asRecipeCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof EtcdError && err.code !== 'Canceled' && !err.surfacedAsUnknown) throw new EtcdError(err.code, undefined, true);
    throw err;
  }
}

export function isEtcdError(e: unknown): e is EtcdError {
  return e instanceof EtcdError;
}

/**
 * This member was removed from the cluster (its own removal applied, or a peer answered 410): etcd
 * logs it, says the data dir must be removed, and the process exits with status 0.
 */
export class MemberRemovedError extends Error {
  constructor() {
    super('the member has been permanently removed from the cluster');
  }
}
