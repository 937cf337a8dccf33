// The unary routes of etcd 3.4's JSON gateway: path under /v3 (and /v3beta) → gRPC service and
// method, request and response message, and the facade call. Paths are etcd 3.4.23's `post:`
// bindings (in 3.4 /v3/maintenance/hash is bound to Hash; HashKV has no reachable path).
import type { CallContext, EtcdErrorCode, EtcdServerFacade } from '../../server/facade.js';
import { checkDelete, checkPeerURLs, checkPut, checkRange, checkTxn } from '../v3/validate.js';

export interface UnaryRoute {
  readonly path: string;
  readonly service: string;
  readonly method: string;
  readonly request: string;
  readonly response: string;
  readonly call: (f: EtcdServerFacade, req: never, ctx: CallContext | undefined) => Promise<object>;
  /** etcd's v3rpc request checks (the same ones the gRPC API makes), before the facade is called. */
  readonly check?: (req: never, limits: GatewayLimits) => EtcdErrorCode | undefined;
  /** The call may wait indefinitely (Lock, Campaign): it gets a signal that aborts when the client goes. */
  readonly blocking?: boolean;
}

export interface GatewayLimits {
  readonly maxTxnOps: number;
}

type Call = (f: EtcdServerFacade, req: never, ctx: CallContext | undefined) => Promise<object>;

const P = 'etcdserverpb';
const route = (path: string, service: string, method: string, msg: string, call: Call, respMsg?: string): UnaryRoute => {
  const pkg = service.split('.')[0] as string;
  return {
    path, service, method, call,
    request: `${pkg}.${msg}Request`,
    response: `${pkg}.${respMsg ?? msg}Response`,
  };
};

const kv = (path: string, method: string, msg: string, call: Call, resp?: string) => route(path, `${P}.KV`, method, msg, call, resp);
const lease = (path: string, method: string, call: Call) => route(path, `${P}.Lease`, method, method, call);
const cluster = (path: string, method: string, call: Call) => route(path, `${P}.Cluster`, method, method, call);
const maint = (path: string, method: string, call: Call) => route(path, `${P}.Maintenance`, method, method, call);
const auth = (path: string, method: string, msg: string, call: Call) => route(path, `${P}.Auth`, method, msg, call);

type Check = NonNullable<UnaryRoute['check']>;
const CHECKS: Record<string, Check> = {
  Range: (r) => checkRange(r),
  Put: (r) => checkPut(r),
  DeleteRange: (r) => checkDelete(r),
  Txn: (r, l) => checkTxn(r, l.maxTxnOps),
  MemberAdd: (r: { peerURLs: string[] }) => checkPeerURLs(r.peerURLs),
  MemberUpdate: (r: { peerURLs: string[] }) => checkPeerURLs(r.peerURLs),
};

const withChecks = (routes: UnaryRoute[]): UnaryRoute[] =>
  routes.map((r) => (CHECKS[r.method] && r.service.startsWith(P) ? { ...r, check: CHECKS[r.method] } : r));

export const UNARY_ROUTES: readonly UnaryRoute[] = withChecks([
  kv('/kv/range', 'Range', 'Range', (f, r, c) => f.range(r, c)),
  kv('/kv/put', 'Put', 'Put', (f, r, c) => f.put(r, c)),
  kv('/kv/deleterange', 'DeleteRange', 'DeleteRange', (f, r, c) => f.deleteRange(r, c)),
  kv('/kv/txn', 'Txn', 'Txn', (f, r, c) => f.txn(r, c)),
  kv('/kv/compaction', 'Compact', 'Compaction', (f, r, c) => f.compact(r, c)),

  lease('/lease/grant', 'LeaseGrant', (f, r, c) => f.leaseGrant(r, c)),
  lease('/lease/revoke', 'LeaseRevoke', (f, r, c) => f.leaseRevoke(r, c)),
  lease('/kv/lease/revoke', 'LeaseRevoke', (f, r, c) => f.leaseRevoke(r, c)),
  lease('/lease/timetolive', 'LeaseTimeToLive', (f, r, c) => f.leaseTimeToLive(r, c)),
  lease('/kv/lease/timetolive', 'LeaseTimeToLive', (f, r, c) => f.leaseTimeToLive(r, c)),
  lease('/lease/leases', 'LeaseLeases', (f, r, c) => f.leaseLeases(r, c)),
  lease('/kv/lease/leases', 'LeaseLeases', (f, r, c) => f.leaseLeases(r, c)),

  cluster('/cluster/member/add', 'MemberAdd', (f, r, c) => f.memberAdd(r, c)),
  cluster('/cluster/member/remove', 'MemberRemove', (f, r, c) => f.memberRemove(r, c)),
  cluster('/cluster/member/update', 'MemberUpdate', (f, r, c) => f.memberUpdate(r, c)),
  cluster('/cluster/member/list', 'MemberList', (f, r, c) => f.memberList(r, c)),
  cluster('/cluster/member/promote', 'MemberPromote', (f, r, c) => f.memberPromote(r, c)),

  maint('/maintenance/alarm', 'Alarm', (f, r, c) => f.alarm(r, c)),
  maint('/maintenance/status', 'Status', (f, r, c) => f.status(r, c)),
  maint('/maintenance/defragment', 'Defragment', (f, r, c) => f.defragment(r, c)),
  maint('/maintenance/hash', 'Hash', (f, r, c) => f.hash(r, c)),
  maint('/maintenance/transfer-leadership', 'MoveLeader', (f, r, c) => f.moveLeader(r, c)),

  auth('/auth/enable', 'AuthEnable', 'AuthEnable', (f, r, c) => f.authEnable(r, c)),
  auth('/auth/disable', 'AuthDisable', 'AuthDisable', (f, r, c) => f.authDisable(r, c)),
  auth('/auth/authenticate', 'Authenticate', 'Authenticate', (f, r, c) => f.authenticate(r, c)),
  auth('/auth/user/add', 'UserAdd', 'AuthUserAdd', (f, r, c) => f.userAdd(r, c)),
  auth('/auth/user/get', 'UserGet', 'AuthUserGet', (f, r, c) => f.userGet(r, c)),
  auth('/auth/user/list', 'UserList', 'AuthUserList', (f, r, c) => f.userList(r, c)),
  auth('/auth/user/delete', 'UserDelete', 'AuthUserDelete', (f, r, c) => f.userDelete(r, c)),
  auth('/auth/user/changepw', 'UserChangePassword', 'AuthUserChangePassword', (f, r, c) => f.userChangePassword(r, c)),
  auth('/auth/user/grant', 'UserGrantRole', 'AuthUserGrantRole', (f, r, c) => f.userGrantRole(r, c)),
  auth('/auth/user/revoke', 'UserRevokeRole', 'AuthUserRevokeRole', (f, r, c) => f.userRevokeRole(r, c)),
  auth('/auth/role/add', 'RoleAdd', 'AuthRoleAdd', (f, r, c) => f.roleAdd(r, c)),
  auth('/auth/role/get', 'RoleGet', 'AuthRoleGet', (f, r, c) => f.roleGet(r, c)),
  auth('/auth/role/list', 'RoleList', 'AuthRoleList', (f, r, c) => f.roleList(r, c)),
  auth('/auth/role/delete', 'RoleDelete', 'AuthRoleDelete', (f, r, c) => f.roleDelete(r, c)),
  auth('/auth/role/grant', 'RoleGrantPermission', 'AuthRoleGrantPermission', (f, r, c) => f.roleGrantPermission(r, c)),
  auth('/auth/role/revoke', 'RoleRevokePermission', 'AuthRoleRevokePermission', (f, r, c) => f.roleRevokePermission(r, c)),

  { ...route('/lock/lock', 'v3lockpb.Lock', 'Lock', 'Lock', (f, r, c) => f.lock(r, c)), blocking: true },
  route('/lock/unlock', 'v3lockpb.Lock', 'Unlock', 'Unlock', (f, r, c) => f.unlock(r, c)),
  { ...route('/election/campaign', 'v3electionpb.Election', 'Campaign', 'Campaign', (f, r, c) => f.campaign(r, c)), blocking: true },
  route('/election/proclaim', 'v3electionpb.Election', 'Proclaim', 'Proclaim', (f, r, c) => f.proclaim(r, c)),
  route('/election/leader', 'v3electionpb.Election', 'Leader', 'Leader', (f, r, c) => f.leader(r, c)),
  route('/election/resign', 'v3electionpb.Election', 'Resign', 'Resign', (f, r, c) => f.resign(r, c)),
]);
