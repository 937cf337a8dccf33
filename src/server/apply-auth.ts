/*
 * The auth layer of the v3 applier (etcd's authApplierV3 around its quota applier around the
 * backend applier). For each applied request, with the user and auth revision its header carries from
 * the member that proposed it:
 *   - auth management (enable, disable, users, roles; not get, not authenticate) needs root;
 *   - put, delete_range, txn and lease_revoke are checked against the user's permissions at the auth
 *     store's revision NOW, so a permission revoked after the proposer checked its token never passes
 *     (a header revision below the store's is "revision of auth store is old");
 *   - the auth requests themselves are applied to the auth store; Authenticate assigns the token
 *     "<prefix>.<index>" on every member;
 *   - everything else goes to the inner applier unchanged (it sets the consistent index itself).
 * A refusal still consumes the entry: the consistent index is set here.
 */
import { AuthError, type AuthInfo, type AuthStore, type TokenProvider } from '../auth/index.js';
import type { Backend } from '../backend/index.js';
import type { Lessor } from '../lease/index.js';
import { permTypeName } from './auth-convert.js';
import { authToEtcdError, checkLeasePuts, checkTxnAuth } from './auth-checks.js';
import type { AuthResult, V3Applier, V3Result } from './apply-v3.js';
import { EtcdError } from './errors.js';
import type { InternalRaftRequest } from './internal-request.js';
import { big } from './v3-convert.js';

export interface AuthApplierDeps {
  inner: V3Applier;
  auth: AuthStore;
  tokens: TokenProvider;
  lessor: Lessor;
  backend: Backend;
  now(): number;
}

type R = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString() : '');
const buf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : ''));

const ADMIN_FIELDS = [
  'auth_enable', 'auth_disable', 'auth_user_add', 'auth_user_delete', 'auth_user_change_password', 'auth_user_grant_role',
  'auth_user_revoke_role', 'auth_role_add', 'auth_role_grant_permission', 'auth_role_revoke_permission', 'auth_role_delete',
  'auth_user_list', 'auth_role_list',
] as const;

export function needAdminPermission(req: InternalRaftRequest): boolean {
  return ADMIN_FIELDS.some((f) => req[f] != null);
}

export function isAuthRequest(req: InternalRaftRequest): boolean {
  return needAdminPermission(req) || req.authenticate != null || req.auth_user_get != null || req.auth_role_get != null;
}

export class AuthApplier {
  constructor(private readonly d: AuthApplierDeps) {}

  apply(index: number, req: InternalRaftRequest): V3Result | EtcdError {
    const ai: AuthInfo = { username: req.header.username ?? '', revision: Number(req.header.auth_revision ?? '0') };
    try {
      if (needAdminPermission(req)) this.d.auth.isAdminPermitted(ai);
      if (isAuthRequest(req)) {
        const r = this.applyAuth(index, req, ai);
        this.d.backend.setConsistentIndex(index);
        return r;
      }
      this.check(req, ai);
    } catch (e) {
      this.d.backend.setConsistentIndex(index);
      return authToEtcdError(e);
    }
    return this.d.inner.apply(index, req);
  }

  /** etcd's authApplierV3 Put, DeleteRange, Txn and LeaseRevoke checks. */
  private check(req: InternalRaftRequest, ai: AuthInfo): void {
    const as = this.d.auth;
    if (!as.enabled) return;
    if (req.put) {
      as.isPutPermitted(ai, req.put.key);
      checkLeasePuts(as, ai, this.d.lessor, big(req.put.lease));
      if (req.put.prev_kv) as.isRangePermitted(ai, req.put.key, undefined);
    } else if (req.delete_range) {
      const r = req.delete_range;
      const end = r.range_end.length === 0 ? undefined : r.range_end;
      as.isDeleteRangePermitted(ai, r.key, end);
      if (r.prev_kv) as.isRangePermitted(ai, r.key, end);
    } else if (req.txn) {
      checkTxnAuth(as, ai, req.txn);
    } else if (req.lease_revoke) {
      checkLeasePuts(as, ai, this.d.lessor, big(req.lease_revoke.ID));
    }
  }

  private applyAuth(index: number, req: InternalRaftRequest, ai: AuthInfo): AuthResult {
    const as = this.d.auth;
    const ok: AuthResult = { kind: 'auth' };
    if (req.auth_enable) as.authEnable();
    else if (req.auth_disable) as.authDisable();
    else if (req.authenticate) {
      const a = req.authenticate as R;
      const name = str(a.name);
      as.authenticate(name);
      return { kind: 'auth', token: this.d.tokens.assign(name, str(a.simple_token), index, this.d.now(), as.revision) };
    } else if (req.auth_user_add) {
      const a = req.auth_user_add as R;
      as.userAdd({ name: str(a.name), password: str(a.password), options: a.options as { no_password?: boolean } | null });
    } else if (req.auth_user_delete) as.userDelete(str(req.auth_user_delete.name));
    else if (req.auth_user_change_password) {
      const a = req.auth_user_change_password as R;
      as.userChangePassword(str(a.name), str(a.password));
    } else if (req.auth_user_grant_role) {
      const a = req.auth_user_grant_role as R;
      as.userGrantRole(str(a.user), str(a.role));
    } else if (req.auth_user_revoke_role) {
      const a = req.auth_user_revoke_role as R;
      as.userRevokeRole(str(a.name), str(a.role));
    } else if (req.auth_user_get) {
      const name = str(req.auth_user_get.name);
      // a user may read itself; anyone else needs root
      if (!this.adminOrSelf(ai, () => name === ai.username)) throw new AuthError('PermissionDenied');
      return { kind: 'auth', names: as.userGet(name) };
    } else if (req.auth_user_list) return { kind: 'auth', names: as.userList() };
    else if (req.auth_role_add) as.roleAdd(str(req.auth_role_add.name));
    else if (req.auth_role_delete) as.roleDelete(str(req.auth_role_delete.role));
    else if (req.auth_role_get) {
      const role = str(req.auth_role_get.role);
      if (!this.adminOrSelf(ai, () => as.hasRole(ai.username, role))) throw new AuthError('PermissionDenied');
      return { kind: 'auth', perms: as.roleGet(role) };
    } else if (req.auth_role_list) return { kind: 'auth', names: as.roleList() };
    else if (req.auth_role_grant_permission) {
      const a = req.auth_role_grant_permission as R;
      const p = (a.perm ?? {}) as R;
      as.roleGrantPermission(str(a.name), { permType: permTypeName(p.permType), key: buf(p.key), rangeEnd: buf(p.range_end) });
    } else if (req.auth_role_revoke_permission) {
      const a = req.auth_role_revoke_permission as R;
      as.roleRevokePermission(str(a.role), buf(a.key), buf(a.range_end));
    }
    return ok;
  }

  /** etcd's UserGet / RoleGet: root passes; otherwise `self()` decides, and a refusal is root's error. */
  private adminOrSelf(ai: AuthInfo, self: () => boolean): boolean {
    try {
      this.d.auth.isAdminPermitted(ai);
      return true;
    } catch (e) {
      if (self()) return true;
      throw e;
    }
  }
}
