/**
 * etcdserverpb.Auth: every RPC goes through raft in etcd, so each has the size guard; the server
 * decides the outcome (without auth enabled: Authenticate -> 'AuthNotEnabled', as etcd 3.4).
 */
import type { EtcdServerFacade } from '../../server/facade.js';
import type { AuthHandlers } from '../../pb/etcdserverpb/Auth.js';
import { sizeGuard, unary } from './common.js';

export function authHandlers(f: EtcdServerFacade): AuthHandlers {
  return {
    AuthEnable: unary((r, ctx) => f.authEnable(r, ctx), sizeGuard),
    AuthDisable: unary((r, ctx) => f.authDisable(r, ctx), sizeGuard),
    Authenticate: unary((r, ctx) => f.authenticate(r, ctx), sizeGuard),
    UserAdd: unary((r, ctx) => f.userAdd(r, ctx), sizeGuard),
    UserGet: unary((r, ctx) => f.userGet(r, ctx), sizeGuard),
    UserList: unary((r, ctx) => f.userList(r, ctx), sizeGuard),
    UserDelete: unary((r, ctx) => f.userDelete(r, ctx), sizeGuard),
    UserChangePassword: unary((r, ctx) => f.userChangePassword(r, ctx), sizeGuard),
    UserGrantRole: unary((r, ctx) => f.userGrantRole(r, ctx), sizeGuard),
    UserRevokeRole: unary((r, ctx) => f.userRevokeRole(r, ctx), sizeGuard),
    RoleAdd: unary((r, ctx) => f.roleAdd(r, ctx), sizeGuard),
    RoleGet: unary((r, ctx) => f.roleGet(r, ctx), sizeGuard),
    RoleList: unary((r, ctx) => f.roleList(r, ctx), sizeGuard),
    RoleDelete: unary((r, ctx) => f.roleDelete(r, ctx), sizeGuard),
    RoleGrantPermission: unary((r, ctx) => f.roleGrantPermission(r, ctx), sizeGuard),
    RoleRevokePermission: unary((r, ctx) => f.roleRevokePermission(r, ctx), sizeGuard),
  };
}
