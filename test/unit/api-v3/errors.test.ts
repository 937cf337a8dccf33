import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { ALL_ERROR_CODES, errorInfo, httpStatusOf, toErrorInfo, toGrpcError } from '../../../src/api/v3/errors.js';
import { EtcdError, asRecipeCall } from '../../../src/server/errors.js';

// Expected rows copied from etcd-reference §1.3 (etcd 3.4 rpctypes), independently of the table.
const EXPECTED: [string, status, string, number?][] = [
  ['EmptyKey', status.INVALID_ARGUMENT, 'etcdserver: key is not provided', 400],
  ['ValueProvided', status.INVALID_ARGUMENT, 'etcdserver: value is provided', 400],
  ['TooManyOps', status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request', 400],
  ['DuplicateKey', status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request', 400],
  ['Compacted', status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted', 400],
  ['FutureRev', status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision', 400],
  ['NoSpace', status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],
  ['LeaseNotFound', status.NOT_FOUND, 'etcdserver: requested lease not found', 404],
  ['LeaseExist', status.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  ['LeaseTTLTooLarge', status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
  ['RequestTooLarge', status.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  ['AuthNotEnabled', status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled', 412],
  ['InvalidAuthToken', status.UNAUTHENTICATED, 'etcdserver: invalid auth token'],
  ['PermissionDenied', status.PERMISSION_DENIED, 'etcdserver: permission denied'],
  ['NoLeader', status.UNAVAILABLE, 'etcdserver: no leader'],
  ['NotLeader', status.FAILED_PRECONDITION, 'etcdserver: not leader'],
  ['Corrupt', status.DATA_LOSS, 'etcdserver: corrupt cluster'],
  ['MemberBadURLs', status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'],
  ['MemberNotFound', status.NOT_FOUND, 'etcdserver: member not found'],
  ['PeerURLExist', status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  ['TimeoutDueToLeaderFail', status.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'],
  ['NotSupportedForLearner', status.UNAVAILABLE, 'etcdserver: rpc not supported for learner'],
];

describe('the v3 error table', () => {
  it.each(EXPECTED)('%s -> gRPC %i "%s"', (code, grpcCode, message, http) => {
    const info = errorInfo(code as never);
    expect(info.grpcCode).toBe(grpcCode);
    expect(info.message).toBe(message);
    if (http !== undefined) expect(info.httpStatus).toBe(http);
  });

  it('has a distinct message for every code (but a removed member\'s id, "member not found" as in etcd\'s table)', () => {
    const codes = ALL_ERROR_CODES.filter((c) => c !== 'MemberRemoved');
    const messages = codes.map((c) => errorInfo(c).message);
    expect(new Set(messages).size).toBe(codes.length);
    expect(errorInfo('MemberRemoved')).toEqual(errorInfo('MemberNotFound'));
    expect(ALL_ERROR_CODES.length).toBeGreaterThanOrEqual(55);
  });

  it('maps a thrown EtcdError by its code, whatever its detail text', () => {
    const info = toErrorInfo(new EtcdError('Compacted', 'at revision 3'));
    expect(info).toEqual({ grpcCode: status.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted', httpStatus: 400 });
    expect(toGrpcError(new EtcdError('LeaseNotFound'))).toMatchObject({ code: status.NOT_FOUND, details: 'etcdserver: requested lease not found' });
  });

  it('passes any other error through as UNKNOWN with its message', () => {
    expect(toErrorInfo(new Error('disk on fire'))).toEqual({ grpcCode: status.UNKNOWN, message: 'disk on fire', httpStatus: 500 });
    const fake = Object.assign(new Error('x'), { code: 'ENOENT' });
    expect(toErrorInfo(fake).grpcCode).toBe(status.UNKNOWN);
  });

  it('follows grpc-gateway v1 for HTTP statuses', () => {
    expect(httpStatusOf(status.FAILED_PRECONDITION)).toBe(412);
    expect(httpStatusOf(status.RESOURCE_EXHAUSTED)).toBe(429);
    expect(httpStatusOf(status.UNAVAILABLE)).toBe(503);
    expect(httpStatusOf(status.UNAUTHENTICATED)).toBe(401);
    expect(httpStatusOf(status.DATA_LOSS)).toBe(500);
  });
});

describe('errors of the Lock and Election recipes', () => {
  it('keep etcd text but reach the client as Unknown / 500, except cancellation', async () => {
    const lease = await asRecipeCall(Promise.reject(new EtcdError('LeaseNotFound'))).catch((e: unknown) => e);
    expect(toErrorInfo(lease)).toEqual({ grpcCode: status.UNKNOWN, message: 'etcdserver: requested lease not found', httpStatus: 500 });
    const canceled = await asRecipeCall(Promise.reject(new EtcdError('Canceled'))).catch((e: unknown) => e);
    expect(toErrorInfo(canceled)).toEqual(errorInfo('Canceled'));
    expect(await asRecipeCall(Promise.resolve(7))).toBe(7);
  });
});
