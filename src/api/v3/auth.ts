/**
 * etcdserverpb.Auth: every RPC goes through raft in etcd, so each has the size guard. The server's
 * facade serves them all (server/v3-auth.ts).
 *
 * A facade without an auth store (one that rejects with 'NotCapable': test fakes) answers as etcd 3.4 with
 * auth disabled and no users or roles (checked against etcd 3.4.23): AuthEnable -> "root user does
 * not exist", AuthDisable -> OK, Authenticate -> "authentication is not enabled", lists empty,
 * any named user -> "user name not found", any named role -> "role name not found". Adding a
 * user or role needs a store: with an empty name it is refused as etcd does, otherwise
 * 'NotCapable' stands.
 */
import type { CallContext, EtcdErrorCode, EtcdServerFacade } from '../../server/facade.js';
import type { AuthHandlers } from '../../pb/etcdserverpb/Auth.js';
import type { ResponseHeader } from '../../pb/etcdserverpb/ResponseHeader.js';
import { HeaderMaker, sizeGuard, unary } from './common.js';

class Refusal extends Error {
  override readonly name = 'EtcdError';
  constructor(readonly code: EtcdErrorCode) {
    super(code);
  }
}

function isNotCapable(err: unknown): boolean {
  return err instanceof Error && err.name === 'EtcdError' && (err as { code?: unknown }).code === 'NotCapable';
}

/** The facade call, or the auth-disabled answer when the facade has no auth store. */
function orDisabled<Req, Res>(
  call: (req: Req, ctx?: CallContext) => Promise<Res>,
  fallback: (req: Req) => Res | EtcdErrorCode,
): (req: Req, ctx?: CallContext) => Promise<Res> {
  return (req, ctx) =>
    call(req, ctx).catch((err: unknown) => {
      if (!isNotCapable(err)) throw err;
      const answer = fallback(req);
      if (typeof answer === 'string') throw new Refusal(answer as EtcdErrorCode);
      return answer;
    });
}

export function authHandlers(f: EtcdServerFacade): AuthHandlers {
  const headers = new HeaderMaker(f);
  const ok = (): { header: ResponseHeader } => ({ header: headers.make() });
  const userNotFound = (): EtcdErrorCode => 'UserNotFound';
  const roleNotFound = (): EtcdErrorCode => 'RoleNotFound';
  return {
    AuthEnable: unary(orDisabled((r, c) => f.authEnable(r, c), () => 'RootUserNotExist'), sizeGuard),
    AuthDisable: unary(orDisabled((r, c) => f.authDisable(r, c), ok), sizeGuard),
    Authenticate: unary(orDisabled((r, c) => f.authenticate(r, c), () => 'AuthNotEnabled'), sizeGuard),
    UserAdd: unary(orDisabled((r, c) => f.userAdd(r, c), (r) => (r.name === '' ? 'UserEmpty' : 'NotCapable')), sizeGuard),
    UserGet: unary(orDisabled((r, c) => f.userGet(r, c), userNotFound), sizeGuard),
    UserList: unary(orDisabled((r, c) => f.userList(r, c), () => ({ ...ok(), users: [] })), sizeGuard),
    UserDelete: unary(orDisabled((r, c) => f.userDelete(r, c), userNotFound), sizeGuard),
    UserChangePassword: unary(orDisabled((r, c) => f.userChangePassword(r, c), userNotFound), sizeGuard),
    UserGrantRole: unary(orDisabled((r, c) => f.userGrantRole(r, c), userNotFound), sizeGuard),
    UserRevokeRole: unary(orDisabled((r, c) => f.userRevokeRole(r, c), userNotFound), sizeGuard),
    RoleAdd: unary(orDisabled((r, c) => f.roleAdd(r, c), (r) => (r.name === '' ? 'RoleEmpty' : 'NotCapable')), sizeGuard),
    RoleGet: unary(orDisabled((r, c) => f.roleGet(r, c), roleNotFound), sizeGuard),
    RoleList: unary(orDisabled((r, c) => f.roleList(r, c), () => ({ ...ok(), roles: [] })), sizeGuard),
    RoleDelete: unary(orDisabled((r, c) => f.roleDelete(r, c), roleNotFound), sizeGuard),
    RoleGrantPermission: unary(orDisabled((r, c) => f.roleGrantPermission(r, c), roleNotFound), sizeGuard),
    RoleRevokePermission: unary(orDisabled((r, c) => f.roleRevokePermission(r, c), roleNotFound), sizeGuard),
  };
}
