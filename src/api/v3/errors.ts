/**
 * THE table: domain error code -> gRPC status code, etcd's exact message, gateway HTTP status.
 *
 * Every error a v3 client can see comes from here, whether raised by API validation (empty key,
 * too many txn ops) or thrown by the server as EtcdError. Messages are etcd 3.4's rpctypes text.
 * HTTP statuses are grpc-gateway v1's mapping of the gRPC code (what etcd 3.4's gateway answers:
 * InvalidArgument/OutOfRange 400, NotFound 404, FailedPrecondition 412, ...).
 */
import { status as Status } from '@grpc/grpc-js';
import type { EtcdErrorCode } from '../../server/facade.js';

export interface ErrorInfo {
  readonly grpcCode: Status;
  readonly message: string;
  readonly httpStatus: number;
}

const S = Status;
const e = (grpcCode: Status, text: string): readonly [Status, string] => [grpcCode, `etcdserver: ${text}`];

const TABLE: Record<EtcdErrorCode, readonly [Status, string]> = {
  EmptyKey: e(S.INVALID_ARGUMENT, 'key is not provided'),
  KeyNotFound: e(S.INVALID_ARGUMENT, 'key not found'),
  ValueProvided: e(S.INVALID_ARGUMENT, 'value is provided'),
  LeaseProvided: e(S.INVALID_ARGUMENT, 'lease is provided'),
  TooManyOps: e(S.INVALID_ARGUMENT, 'too many operations in txn request'),
  DuplicateKey: e(S.INVALID_ARGUMENT, 'duplicate key given in txn request'),
  Compacted: e(S.OUT_OF_RANGE, 'mvcc: required revision has been compacted'),
  FutureRev: e(S.OUT_OF_RANGE, 'mvcc: required revision is a future revision'),
  NoSpace: e(S.RESOURCE_EXHAUSTED, 'mvcc: database space exceeded'),
  LeaseNotFound: e(S.NOT_FOUND, 'requested lease not found'),
  LeaseExist: e(S.FAILED_PRECONDITION, 'lease already exists'),
  LeaseTTLTooLarge: e(S.OUT_OF_RANGE, 'too large lease TTL'),
  WatchCanceled: e(S.CANCELLED, 'watch canceled'),
  MemberExist: e(S.FAILED_PRECONDITION, 'member ID already exist'),
  PeerURLExist: e(S.FAILED_PRECONDITION, 'Peer URLs already exists'),
  // etcd's table maps it to rpctypes.ErrMemberNotEnoughStarted, not a gRPC status: it goes out as Unknown
  MemberNotEnoughStarted: e(S.UNKNOWN, 're-configuration failed due to not enough started members'),
  MemberBadURLs: e(S.INVALID_ARGUMENT, 'given member URLs are invalid'),
  MemberNotFound: e(S.NOT_FOUND, 'member not found'),
  MemberRemoved: e(S.NOT_FOUND, 'member not found'),
  MemberNotLearner: e(S.FAILED_PRECONDITION, 'can only promote a learner member'),
  LearnerNotReady: e(S.FAILED_PRECONDITION, 'can only promote a learner member which is in sync with leader'),
  TooManyLearners: e(S.FAILED_PRECONDITION, 'too many learner members in cluster'),
  RequestTooLarge: e(S.INVALID_ARGUMENT, 'request is too large'),
  TooManyRequests: e(S.RESOURCE_EXHAUSTED, 'too many requests'),
  RootUserNotExist: e(S.FAILED_PRECONDITION, 'root user does not exist'),
  RootRoleNotExist: e(S.FAILED_PRECONDITION, 'root user does not have root role'),
  UserAlreadyExist: e(S.FAILED_PRECONDITION, 'user name already exists'),
  UserEmpty: e(S.INVALID_ARGUMENT, 'user name is empty'),
  UserNotFound: e(S.FAILED_PRECONDITION, 'user name not found'),
  RoleAlreadyExist: e(S.FAILED_PRECONDITION, 'role name already exists'),
  RoleNotFound: e(S.FAILED_PRECONDITION, 'role name not found'),
  RoleEmpty: e(S.INVALID_ARGUMENT, 'role name is empty'),
  AuthFailed: e(S.INVALID_ARGUMENT, 'authentication failed, invalid user ID or password'),
  PermissionDenied: e(S.PERMISSION_DENIED, 'permission denied'),
  RoleNotGranted: e(S.FAILED_PRECONDITION, 'role is not granted to the user'),
  PermissionNotGranted: e(S.FAILED_PRECONDITION, 'permission is not granted to the role'),
  AuthNotEnabled: e(S.FAILED_PRECONDITION, 'authentication is not enabled'),
  InvalidAuthToken: e(S.UNAUTHENTICATED, 'invalid auth token'),
  InvalidAuthMgmt: e(S.INVALID_ARGUMENT, 'invalid auth management'),
  AuthOldRevision: e(S.INVALID_ARGUMENT, 'revision of auth store is old'),
  NoLeader: e(S.UNAVAILABLE, 'no leader'),
  NotLeader: e(S.FAILED_PRECONDITION, 'not leader'),
  LeaderChanged: e(S.UNAVAILABLE, 'leader changed'),
  NotCapable: e(S.UNAVAILABLE, 'not capable'),
  Stopped: e(S.UNAVAILABLE, 'server stopped'),
  Timeout: e(S.UNAVAILABLE, 'request timed out'),
  TimeoutDueToLeaderFail: e(S.UNAVAILABLE, 'request timed out, possibly due to previous leader failure'),
  TimeoutDueToConnectionLost: e(S.UNAVAILABLE, 'request timed out, possibly due to connection lost'),
  TimeoutWaitAppliedIndex: e(S.UNAVAILABLE, 'request timed out, waiting for the applied index took too long'),
  Unhealthy: e(S.UNAVAILABLE, 'unhealthy cluster'),
  Corrupt: e(S.DATA_LOSS, 'corrupt cluster'),
  NotSupportedForLearner: e(S.UNAVAILABLE, 'rpc not supported for learner'),
  BadLeaderTransferee: e(S.FAILED_PRECONDITION, 'bad leader transferee'),
  // not in etcd's gRPC error table: it reaches the client as Unknown with the server's text
  NoPasswordUser: [S.UNKNOWN, 'auth: authentication failed, password was given for no password user'],
  TimeoutLeaderTransfer: [S.UNKNOWN, 'etcdserver: request timed out, leader transfer took too long'],
  // Plain Go errors in etcd's lock/election servers: gRPC Unknown, no "etcdserver: " prefix.
  ElectionNoLeader: [S.UNKNOWN, 'election: no leader'],
  ElectionNotLeader: [S.UNKNOWN, 'election: not leader'],
  MissingLeaderKey: [S.UNKNOWN, '"leader" field must be provided'],
  Canceled: [S.CANCELLED, 'context canceled'],
};

/** grpc-gateway v1 (etcd 3.4) HTTPStatusFromCode. */
export function httpStatusOf(code: Status): number {
  switch (code) {
    case S.OK:
      return 200;
    case S.CANCELLED:
      return 408;
    case S.INVALID_ARGUMENT:
    case S.OUT_OF_RANGE:
      return 400;
    case S.DEADLINE_EXCEEDED:
      return 504;
    case S.NOT_FOUND:
      return 404;
    case S.ALREADY_EXISTS:
    case S.ABORTED:
      return 409;
    case S.PERMISSION_DENIED:
      return 403;
    case S.UNAUTHENTICATED:
      return 401;
    case S.RESOURCE_EXHAUSTED:
      return 429;
    case S.FAILED_PRECONDITION:
      return 412;
    case S.UNIMPLEMENTED:
      return 501;
    case S.UNAVAILABLE:
      return 503;
    default:
      return 500; // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

const INFO = new Map<string, ErrorInfo>(
  Object.entries(TABLE).map(([code, [grpcCode, message]]) => [
    code,
    { grpcCode, message, httpStatus: httpStatusOf(grpcCode) },
  ]),
);

export function errorInfo(code: EtcdErrorCode): ErrorInfo {
  return INFO.get(code)!;
}

export const ALL_ERROR_CODES = Object.keys(TABLE) as EtcdErrorCode[];

/**
 * Any thrown value -> ErrorInfo. An EtcdError (recognised by shape: api/ may import only the
 * facade's types) uses the table; anything else is gRPC UNKNOWN with its message, as etcd
 * passes unknown errors through.
 */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (err.name === 'EtcdError' && typeof code === 'string') {
      const info = INFO.get(code);
      if (info !== undefined && (err as { surfacedAsUnknown?: boolean }).surfacedAsUnknown) {
        return { grpcCode: S.UNKNOWN, message: info.message, httpStatus: 500 };
      }
      if (info !== undefined) return info;
    }
    return { grpcCode: S.UNKNOWN, message: err.message, httpStatus: 500 };
  }
  return { grpcCode: S.UNKNOWN, message: String(err), httpStatus: 500 };
}

/** The object grpc-js callbacks and `call.destroy`/`emit('error')` accept. */
export interface GrpcError {
  code: Status;
  details: string;
  message: string;
}

export function toGrpcError(err: unknown): GrpcError {
  const info = toErrorInfo(err);
  return { code: info.grpcCode, details: info.message, message: info.message };
}

export function grpcErrorOf(code: EtcdErrorCode): GrpcError {
  const info = errorInfo(code);
  return { code: info.grpcCode, details: info.message, message: info.message };
}
