/*
 * etcd 3.4's auth store: users, roles, key-range permissions, the enabled flag and the auth revision,
 * kept in the backend's `auth`, `authUsers` and `authRoles` buckets exactly as etcd keeps them.
 *
 * Every mutation is called from the apply loop (the same entry on every member gives the same
 * state) and writes the backend's pending batch of that entry; reads come from the in-memory copy
 * loaded at open (and again after a snapshot install: reload). Each change of users or roles bumps
 * the auth revision, which a request's header carries from the member that proposed it, so a request
 * checked against an older revision is refused at apply. Refusals are thrown as AuthError, whose
 * codes are the server's EtcdErrorCode names.
 */
import { Bucket, type Backend } from '../backend/index.js';
import { compareBytes } from '../pkg/bytes.js';
import { bcrypt } from '../platform/bcrypt.js';
import { RangePermissions, type KeyPermission } from './permissions.js';
import { decodeRole, decodeUser, encodeRole, encodeUser, type Role, type User } from './records.js';


export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';
/** etcd's bcrypt.DefaultCost, used when --bcrypt-cost is outside 4..31. */
export const DEFAULT_BCRYPT_COST = 10;

const ENABLE_FLAG_KEY = Buffer.from('authEnabled');
const REVISION_KEY = Buffer.from('authRevision');

export type AuthErrorCode =
  | 'RootUserNotExist'
  | 'RootRoleNotExist'
  | 'UserAlreadyExist'
  | 'UserEmpty'
  | 'UserNotFound'
  | 'RoleAlreadyExist'
  | 'RoleNotFound'
  | 'RoleEmpty'
  | 'AuthFailed'
  | 'NoPasswordUser'
  | 'PermissionDenied'
  | 'RoleNotGranted'
  | 'PermissionNotGranted'
  | 'AuthNotEnabled'
  | 'AuthOldRevision'
  | 'InvalidAuthToken'
  | 'InvalidAuthMgmt';

/** The auth store's own texts (etcd's auth.Err*), which reach a client unmapped on a few paths. */
export const AUTH_ERROR_TEXT: Record<AuthErrorCode, string> = {
  RootUserNotExist: 'auth: root user does not exist',
  RootRoleNotExist: 'auth: root user does not have root role',
  UserAlreadyExist: 'auth: user already exists',
  UserEmpty: 'auth: user name is empty',
  UserNotFound: 'auth: user not found',
  RoleAlreadyExist: 'auth: role already exists',
  RoleNotFound: 'auth: role not found',
  RoleEmpty: 'auth: role name is empty',
  AuthFailed: 'auth: authentication failed, invalid user ID or password',
  NoPasswordUser: 'auth: authentication failed, password was given for no password user',
  PermissionDenied: 'auth: permission denied',
  RoleNotGranted: 'auth: role is not granted to the user',
  PermissionNotGranted: 'auth: permission is not granted to the role',
  AuthNotEnabled: 'auth: authentication is not enabled',
  AuthOldRevision: 'auth: revision in header is old',
  InvalidAuthToken: 'auth: invalid auth token',
  InvalidAuthMgmt: 'auth: invalid auth management',
};

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(readonly code: AuthErrorCode) {
    super(AUTH_ERROR_TEXT[code]);
  }
}

/** Who a request runs as: the user of its token and the auth revision it was checked at. */
export interface AuthInfo {
  username: string;
  revision: number;
}

export type AuthBackend = Pick<Backend, 'get' | 'put' | 'del' | 'iterate'>;

export interface AuthStoreOptions {
  bcryptCost: number;
  /** Called when the enabled flag changes (the token provider starts or drops its tokens). */
  onEnabledChange?: (enabled: boolean) => void;
  /** Called when a user's tokens must go (deleted, password changed). */
  onUserInvalidated?: (name: string) => void;
}

export interface UserAddRequest {
  name: string;
  password: string;
  options?: { no_password?: boolean } | null;
}

export interface PermissionRequest {
  permType: KeyPermission['permType'];
  key: Buffer;
  rangeEnd: Buffer;
}

function sortedInsert(list: string[], s: string): string[] {
  return [...list, s].sort((a, b) => compareBytes(Buffer.from(a), Buffer.from(b)));
}

export class AuthStore {
  private users = new Map<string, User>();
  private roles = new Map<string, Role>();
  private perms = new Map<string, RangePermissions>();
  private enabledFlag = false;
  private rev = 0;
  readonly bcryptCost: number;

  private constructor(
    private readonly be: AuthBackend,
    private readonly opts: AuthStoreOptions,
  ) {
    this.bcryptCost = opts.bcryptCost >= 4 && opts.bcryptCost <= 31 ? opts.bcryptCost : DEFAULT_BCRYPT_COST;
  }

  /** etcd's NewAuthStore: loads the buckets; a store never written gets auth revision 1. */
  static async open(be: AuthBackend, opts: AuthStoreOptions): Promise<AuthStore> {
    const s = new AuthStore(be, opts);
    await s.reload();
    if (s.rev === 0) s.commitRevision();
    return s;
  }

  /** Reads everything again from the backend (start-up, snapshot install). */
  async reload(): Promise<void> {
    const users = new Map<string, User>();
    const roles = new Map<string, Role>();
    for await (const [, v] of this.be.iterate(Bucket.authUsers)) {
      const u = decodeUser(v);
      users.set(u.name, u);
    }
    for await (const [, v] of this.be.iterate(Bucket.authRoles)) {
      const r = decodeRole(v);
      roles.set(r.name, r);
    }
    this.users = users;
    this.roles = roles;
    const flag = this.be.get(Bucket.auth, ENABLE_FLAG_KEY);
    const rev = this.be.get(Bucket.auth, REVISION_KEY);
    this.rev = rev && rev.length === 8 ? Number(rev.readBigUInt64BE(0)) : 0;
    const wasEnabled = this.enabledFlag;
    this.enabledFlag = flag !== undefined && flag.length === 1 && flag[0] === 1;
    this.refreshPermissions();
    if (wasEnabled !== this.enabledFlag) this.opts.onEnabledChange?.(this.enabledFlag);
  }

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): number {
    return this.rev;
  }

  // ---- enable / disable ----

  authEnable(): void {
    if (this.enabledFlag) return;
    const root = this.users.get(ROOT_USER);
    if (!root) throw new AuthError('RootUserNotExist');
    if (!hasRootRole(root)) throw new AuthError('RootRoleNotExist');
    this.be.put(Bucket.auth, ENABLE_FLAG_KEY, Buffer.from([1]));
    this.enabledFlag = true;
    this.opts.onEnabledChange?.(true);
  }

  authDisable(): void {
    if (!this.enabledFlag) return;
    this.be.put(Bucket.auth, ENABLE_FLAG_KEY, Buffer.from([0]));
    this.commitRevision();
    this.enabledFlag = false;
    this.opts.onEnabledChange?.(false);
  }

  // ---- users ----

  userAdd(r: UserAddRequest): void {
    if (r.name.length === 0) throw new AuthError('UserEmpty');
    const noPassword = r.options?.no_password === true;
    const password = noPassword ? Buffer.alloc(0) : Buffer.from(bcrypt().hashSync(r.password, { cost: this.bcryptCost, version: '2a' }));
    if (this.users.has(r.name)) throw new AuthError('UserAlreadyExist');
    this.putUser({ name: r.name, password, roles: [], noPassword });
    this.changed();
  }

  userDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_USER) throw new AuthError('InvalidAuthMgmt');
    if (!this.users.has(name)) throw new AuthError('UserNotFound');
    this.users.delete(name);
    this.be.del(Bucket.authUsers, Buffer.from(name));
    this.changed();
    this.opts.onUserInvalidated?.(name);
  }

  userChangePassword(name: string, password: string): void {
    const hashed = Buffer.from(bcrypt().hashSync(password, { cost: this.bcryptCost, version: '2a' }));
    const u = this.users.get(name);
    if (!u) throw new AuthError('UserNotFound');
    this.putUser({ ...u, password: hashed });
    this.changed();
    this.opts.onUserInvalidated?.(name);
  }

  userGrantRole(user: string, role: string): void {
    const u = this.users.get(user);
    if (!u) throw new AuthError('UserNotFound');
    if (role !== ROOT_ROLE && !this.roles.has(role)) throw new AuthError('RoleNotFound');
    if (u.roles.includes(role)) return; // etcd: logged and ignored, no new revision
    this.putUser({ ...u, roles: sortedInsert(u.roles, role) });
    this.changed();
  }

  userRevokeRole(name: string, role: string): void {
    if (this.enabledFlag && name === ROOT_USER && role === ROOT_ROLE) throw new AuthError('InvalidAuthMgmt');
    const u = this.users.get(name);
    if (!u) throw new AuthError('UserNotFound');
    const roles = u.roles.filter((r) => r !== role);
    if (roles.length === u.roles.length) throw new AuthError('RoleNotGranted');
    this.putUser({ ...u, roles });
    this.changed();
  }

  userGet(name: string): string[] {
    const u = this.users.get(name);
    if (!u) throw new AuthError('UserNotFound');
    return [...u.roles];
  }

  /** Names in byte order (the bucket's). */
  userList(): string[] {
    return sortedNames(this.users.keys());
  }

  hasRole(user: string, role: string): boolean {
    return this.users.get(user)?.roles.includes(role) ?? false;
  }

  // ---- roles ----

  roleAdd(name: string): void {
    if (name.length === 0) throw new AuthError('RoleEmpty');
    if (this.roles.has(name)) throw new AuthError('RoleAlreadyExist');
    this.putRole({ name, keyPermission: [] });
    this.commitRevision(); // etcd: no refresh of the permission cache (the role is granted to no one)
  }

  roleDelete(name: string): void {
    if (this.enabledFlag && name === ROOT_ROLE) throw new AuthError('InvalidAuthMgmt');
    if (!this.roles.has(name)) throw new AuthError('RoleNotFound');
    this.roles.delete(name);
    this.be.del(Bucket.authRoles, Buffer.from(name));
    for (const u of this.users.values()) {
      if (u.roles.includes(name)) this.putUser({ ...u, roles: u.roles.filter((r) => r !== name) });
    }
    this.changed();
  }

  roleGet(name: string): KeyPermission[] {
    const r = this.roles.get(name);
    if (!r) throw new AuthError('RoleNotFound');
    return r.keyPermission.map((p) => ({ ...p }));
  }

  roleList(): string[] {
    return sortedNames(this.roles.keys());
  }

  /** etcd's RoleGrantPermission: the same key and range end updates the type, else a new entry (sorted by key). */
  roleGrantPermission(name: string, perm: PermissionRequest): void {
    const r = this.roles.get(name);
    if (!r) throw new AuthError('RoleNotFound');
    const perms = r.keyPermission.map((p) => ({ ...p }));
    const idx = lowerBound(perms, perm.key);
    const at = perms[idx];
    if (at && at.key.equals(perm.key) && at.rangeEnd.equals(perm.rangeEnd)) at.permType = perm.permType;
    else {
      perms.push({ permType: perm.permType, key: Buffer.from(perm.key), rangeEnd: Buffer.from(perm.rangeEnd) });
      perms.sort((a, b) => compareBytes(a.key, b.key)); // Go's sort.Sort: not stable; equal keys keep insertion order here
    }
    this.putRole({ name, keyPermission: perms });
    this.changed();
  }

  roleRevokePermission(name: string, key: Buffer, rangeEnd: Buffer): void {
    const r = this.roles.get(name);
    if (!r) throw new AuthError('RoleNotFound');
    const perms = r.keyPermission.filter((p) => !p.key.equals(key) || !p.rangeEnd.equals(rangeEnd));
    if (perms.length === r.keyPermission.length) throw new AuthError('PermissionNotGranted');
    this.putRole({ name, keyPermission: perms });
    this.changed();
  }

  // ---- authentication ----

  /**
   * etcd's CheckPassword, done by the member that receives Authenticate, before it proposes: the auth
   * revision the check was made at. The bcrypt comparison runs off the event loop.
   */
  async checkPassword(name: string, password: string): Promise<number> {
    if (!this.enabledFlag) throw new AuthError('AuthNotEnabled');
    const u = this.users.get(name);
    if (!u) {
      // as long as a wrong password for a real user: the answer's timing does not tell who exists
      await bcrypt().verify(password, this.decoyHash()).catch(() => false);
      throw new AuthError('AuthFailed');
    }
    if (u.noPassword === true) throw new AuthError('NoPasswordUser');
    const rev = this.rev;
    const ok = await bcrypt().verify(password, u.password).catch(() => false);
    if (!ok) throw new AuthError('AuthFailed');
    return rev;
  }

  private decoy: string | undefined;

  /** A hash of the store's cost that no password is checked against for real. */
  private decoyHash(): string {
    this.decoy ??= bcrypt().hashSync('decoy', { cost: this.bcryptCost, version: '2a' }); // the result is AuthFailed whatever it says
    return this.decoy;
  }

  /** etcd's Authenticate at apply: the user must still exist and have a password. */
  authenticate(name: string): void {
    if (!this.enabledFlag) throw new AuthError('AuthNotEnabled');
    const u = this.users.get(name);
    if (!u || u.noPassword === true) throw new AuthError('AuthFailed');
  }

  // ---- permission checks (etcd's isOpPermitted, IsAdminPermitted) ----

  isRangePermitted(ai: AuthInfo, key: Buffer, rangeEnd: Buffer | undefined): void {
    this.isOpPermitted(ai, key, rangeEnd, 'READ');
  }

  isPutPermitted(ai: AuthInfo, key: Buffer): void {
    this.isOpPermitted(ai, key, undefined, 'WRITE');
  }

  isDeleteRangePermitted(ai: AuthInfo, key: Buffer, rangeEnd: Buffer | undefined): void {
    this.isOpPermitted(ai, key, rangeEnd, 'WRITE');
  }

  isAdminPermitted(ai: AuthInfo | undefined): void {
    if (!this.enabledFlag) return;
    if (!ai || ai.username === '') throw new AuthError('UserEmpty');
    const u = this.users.get(ai.username);
    if (!u) throw new AuthError('UserNotFound');
    if (!hasRootRole(u)) throw new AuthError('PermissionDenied');
  }

  private isOpPermitted(ai: AuthInfo, key: Buffer, rangeEnd: Buffer | undefined, type: 'READ' | 'WRITE'): void {
    if (!this.enabledFlag) return;
    if (ai.revision === 0) throw new AuthError('UserEmpty');
    if (ai.revision < this.rev) throw new AuthError('AuthOldRevision');
    const u = this.users.get(ai.username);
    if (!u) throw new AuthError('PermissionDenied');
    if (hasRootRole(u)) return;
    if (this.perms.get(ai.username)?.permits(type, key, rangeEnd) === true) return;
    throw new AuthError('PermissionDenied');
  }

  // ---- internals ----

  private putUser(u: User): void {
    this.users.set(u.name, u);
    this.be.put(Bucket.authUsers, Buffer.from(u.name), encodeUser(u));
  }

  private putRole(r: Role): void {
    this.roles.set(r.name, r);
    this.be.put(Bucket.authRoles, Buffer.from(r.name), encodeRole(r));
  }

  /** A change of users or roles: a new revision and a fresh permission cache. */
  private changed(): void {
    this.commitRevision();
    this.refreshPermissions();
  }

  private commitRevision(): void {
    this.rev += 1;
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(this.rev));
    this.be.put(Bucket.auth, REVISION_KEY, b);
  }

  private refreshPermissions(): void {
    this.perms = new Map();
    for (const u of this.users.values()) {
      const perms: KeyPermission[] = [];
      for (const name of u.roles) perms.push(...(this.roles.get(name)?.keyPermission ?? []));
      this.perms.set(u.name, new RangePermissions(perms));
    }
  }
}

function hasRootRole(u: User): boolean {
  return u.roles.includes(ROOT_ROLE);
}

function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => compareBytes(Buffer.from(a), Buffer.from(b)));
}

function lowerBound(perms: KeyPermission[], key: Buffer): number {
  let lo = 0;
  let hi = perms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(perms[mid]!.key, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
