/*
 * etcd 3.4's v2 auth store (etcdserver/api/v2auth): users and roles kept as JSON in the v2 tree under
 * /2/users/<name> and /2/roles/<name>, the switch in /2/enabled ("true"/"false"). Every change is a
 * plain v2 request through raft, made here as etcd's store makes it, so that a cluster mixing members
 * of ours and of etcd applies the same entries:
 *   first change of this process: PUT /2 dir prevExist=false, PUT /2/users/ dir, PUT /2/roles/ dir
 *     (each "already exists" ignored), PUT /2/enabled "false" prevExist=false
 *   create: PUT <path> <json> prevExist=false      update: PUT <path> <json> prevExist=true
 *   delete: DELETE <path> prevExist=true            quorum read: QGET <path>
 * Plain reads (listing, authenticating a request) read this member's store, counted as etcd counts them.
 * Passwords are bcrypt hashes at Go's DefaultCost (10; etcd's v2 auth does not read --bcrypt-cost), made
 * here before proposing: the log carries the hash. Failures are AuthError (etcd's v2auth.Error: an HTTP
 * status and "auth: …"), V2Error from the store, or GoPanic where etcd's code dereferences a missing
 * value (a user or role name that is a directory of the tree, e.g. "" or "."), which Go's HTTP server
 * answers by closing the connection.
 */
import { bcrypt } from '../../platform/bcrypt.js';
import type { V2Facade } from '../../server/facade.js';
import { cleanPath, V2Error, V2ErrorCode, type V2Event } from '../../v2store/index.js';
import {
  decodeRole, decodeUser, emptyPermissions, goSortStrings, roleJson, sameRole, sameUser, userJson,
  type GoStrings, type Permissions, type RWPermission, type V2Role, type V2User,
} from './auth-json.js';

/** etcd's v2 auth tree. */
export const STORE_PERMS_PREFIX = '/2';
export const ROOT_ROLE = 'root';
export const GUEST_ROLE = 'guest';
/** Go's bcrypt.DefaultCost, which etcd's v2 auth hashes with. */
export const V2_BCRYPT_COST = 10;

const allKv = (): Permissions => ({ kv: { read: ['/*'], write: ['/*'] } });
export const rootRole = (): V2Role => ({ role: ROOT_ROLE, permissions: allKv() });
const guestRole = (): V2Role => ({ role: GUEST_ROLE, permissions: allKv() });

/** etcd's v2auth.Error: answered as {"message": "auth: …"} with its status. */
export class AuthError extends Error {
  constructor(readonly status: number, message: string) {
    super(`auth: ${message}`);
  }
}

/** What etcd's Go code would panic on; the HTTP layer closes the connection as Go's server does. */
export class GoPanic extends Error {}

const isCode = (err: unknown, code: number): boolean => err instanceof V2Error && err.errorCode === code;

/** The last segment of a node key (Go's path.Split). */
const baseName = (key: string | undefined): string => (key ?? '').slice((key ?? '').lastIndexOf('/') + 1);

/** A Go-style set of strings (types.NewUnsafeSet): Values() is never nil. */
class StringSet {
  private readonly set: Set<string>;
  constructor(xs: GoStrings) {
    this.set = new Set(xs ?? []);
  }
  has(x: string): boolean { return this.set.has(x); }
  add(x: string): void { this.set.add(x); }
  remove(x: string): void { this.set.delete(x); }
  sortedValues(): string[] { return goSortStrings([...this.set]); }
}

export type AuthStoreFacade = Pick<V2Facade, 'v2AuthProbe' | 'v2AuthRequest' | 'v2AuthGet'>;

export interface AuthStoreLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export const SILENT_LOG: AuthStoreLog = { info: () => {}, warn: () => {} };

export class V2AuthStore {
  /** etcd's ensuredOnce: the directories and the switch were made (or found) by this process. */
  private ensured = false;

  constructor(private readonly f: AuthStoreFacade, private readonly log: AuthStoreLog = SILENT_LOG) {}

  authEnabled(): boolean {
    return this.f.v2AuthProbe();
  }

  async hashPassword(password: string): Promise<string> {
    return bcrypt().hash(password, { cost: V2_BCRYPT_COST, version: '2a' });
  }

  async checkPassword(user: V2User, password: string | Uint8Array): Promise<boolean> {
    if (user.password === '') return false;
    return bcrypt().verify(password, user.password).catch(() => false);
  }

  // ---- users ----

  allUsers(): string[] {
    let ev: V2Event;
    try {
      ev = this.f.v2AuthGet(`${STORE_PERMS_PREFIX}/users/`);
    } catch (err) {
      if (isCode(err, V2ErrorCode.KeyNotFound)) return [];
      throw err;
    }
    return goSortStrings((ev.node.nodes ?? []).map((n) => baseName(n.key)));
  }

  /** A user as stored (the root user always has the root role); quorum: read through raft. */
  async getUser(name: string, quorum = false): Promise<V2User> {
    const value = await this.readValue(`/users/${name}`, quorum, () => new AuthError(404, `User ${name} does not exist.`));
    const u = decodeUser(value);
    if (u === undefined) throw new Error(`v2 auth: the stored user ${name} is not valid JSON`);
    return u.user === 'root' ? attachRootRole(u) : u;
  }

  /** The synchronous local read, for authenticating requests. */
  getUserLocal(name: string): V2User {
    const u = decodeUser(this.localValue(`/users/${name}`, () => new AuthError(404, `User ${name} does not exist.`)));
    if (u === undefined) throw new Error(`v2 auth: the stored user ${name} is not valid JSON`);
    return u.user === 'root' ? attachRootRole(u) : u;
  }

  /** PUT with a password and no roles: an update when the user exists, else a create. */
  async createOrUpdateUser(user: V2User): Promise<{ user: V2User; created: boolean }> {
    let exists = true;
    try {
      await this.getUser(user.user, true);
    } catch (err) {
      if (err instanceof GoPanic) throw err;
      exists = false;
    }
    if (exists) return { user: await this.updateUser(user), created: false };
    return { user: await this.createUser(user), created: true };
  }

  async createUser(user0: V2User): Promise<V2User> {
    const user = user0.user === 'root' ? attachRootRole(user0) : { ...user0 };
    if (user.password === '') throw new AuthError(400, `Cannot create user ${user.user} with an empty password`);
    user.password = await this.hashPassword(user.password);
    try {
      await this.setResource(`/users/${user.user}`, userJson(user), false);
    } catch (err) {
      if (isCode(err, V2ErrorCode.NodeExist)) throw new AuthError(409, `User ${user.user} already exists.`);
      throw err;
    }
    this.log.info({ 'user-name': user.user }, 'created a user');
    return user;
  }

  async deleteUser(name: string): Promise<void> {
    if (this.authEnabled() && name === 'root') throw new AuthError(403, 'Cannot delete root user while auth is enabled.');
    try {
      await this.deleteResource(`/users/${name}`);
    } catch (err) {
      if (isCode(err, V2ErrorCode.KeyNotFound)) throw new AuthError(404, `User ${name} does not exist`);
      throw err;
    }
    this.log.info({ 'user-name': name }, 'deleted a user');
  }

  /** Password, grant and revoke applied to the stored user (etcd's User.merge). */
  async updateUser(user: V2User): Promise<V2User> {
    const old = await this.getUser(user.user, true);
    const merged = await this.mergeUser(old, user);
    if (sameUser(old, merged)) throw new AuthError(400, 'User not updated. Use grant/revoke/password to update the user.');
    await this.setResource(`/users/${user.user}`, userJson(merged), true);
    this.log.info({ 'user-name': user.user }, 'updated a user');
    return merged;
  }

  private async mergeUser(old: V2User, nu: V2User): Promise<V2User> {
    if (old.user !== nu.user) throw new AuthError(409, `Merging user data with conflicting usernames: ${old.user} ${nu.user}`);
    const password = nu.password !== '' ? await this.hashPassword(nu.password) : old.password;
    const roles = new StringSet(old.roles);
    for (const g of nu.grant ?? []) {
      if (roles.has(g)) throw new AuthError(409, sprintfNoArgs(`Granting duplicate role ${g} for user ${nu.user}`));
      roles.add(g);
    }
    for (const r of nu.revoke ?? []) {
      if (!roles.has(r)) throw new AuthError(409, sprintfNoArgs(`Revoking ungranted role ${r} for user ${nu.user}`));
      roles.remove(r);
    }
    return { user: old.user, password, roles: roles.sortedValues(), grant: null, revoke: null };
  }

  // ---- roles ----

  allRoles(): string[] {
    const names = [ROOT_ROLE];
    let ev: V2Event;
    try {
      ev = this.f.v2AuthGet(`${STORE_PERMS_PREFIX}/roles/`);
    } catch (err) {
      if (isCode(err, V2ErrorCode.KeyNotFound)) return names;
      throw err;
    }
    for (const n of ev.node.nodes ?? []) names.push(baseName(n.key));
    return goSortStrings(names);
  }

  async getRole(name: string, quorum = false): Promise<V2Role> {
    if (name === ROOT_ROLE) return rootRole();
    const value = await this.readValue(`/roles/${name}`, quorum, () => new AuthError(404, `Role ${name} does not exist.`));
    return parseRole(name, value);
  }

  getRoleLocal(name: string): V2Role {
    if (name === ROOT_ROLE) return rootRole();
    return parseRole(name, this.localValue(`/roles/${name}`, () => new AuthError(404, `Role ${name} does not exist.`)));
  }

  async createRole(role: V2Role): Promise<void> {
    if (role.role === ROOT_ROLE) throw new AuthError(403, `Cannot modify role ${role.role}: is root role.`);
    try {
      await this.setResource(`/roles/${role.role}`, roleJson(role), false);
    } catch (err) {
      if (isCode(err, V2ErrorCode.NodeExist)) throw new AuthError(409, `Role ${role.role} already exists.`);
      throw err;
    }
    this.log.info({ 'role-name': role.role }, 'created a new role');
  }

  async deleteRole(name: string): Promise<void> {
    if (name === ROOT_ROLE) throw new AuthError(403, `Cannot modify role ${name}: is root role.`);
    try {
      await this.deleteResource(`/roles/${name}`);
    } catch (err) {
      if (isCode(err, V2ErrorCode.KeyNotFound)) throw new AuthError(404, `Role ${name} doesn't exist.`);
      throw err;
    }
    this.log.info({ 'role-name': name }, 'delete a new role');
  }

  /** Grant and revoke applied to the stored role (etcd's Role.merge). */
  async updateRole(role: V2Role): Promise<V2Role> {
    if (role.role === ROOT_ROLE) throw new AuthError(403, `Cannot modify role ${role.role}: is root role.`);
    const old = await this.getRole(role.role, true);
    if (old.role !== role.role) throw new AuthError(409, `Merging role with conflicting names: ${old.role} ${role.role}`);
    let permissions = old.permissions;
    if (role.grant !== undefined) permissions = { kv: grantKv(permissions.kv, role.grant.kv) };
    if (role.revoke !== undefined) permissions = { kv: this.revokeKv(permissions.kv, role.revoke.kv) };
    const merged: V2Role = { role: old.role, permissions };
    if (sameRole(old, merged)) throw new AuthError(400, 'Role not updated. Use grant/revoke to update the role.');
    await this.setResource(`/roles/${role.role}`, roleJson(merged), true);
    this.log.info({ 'role-name': role.role }, 'updated a new role');
    return merged;
  }

  private revokeKv(rw: RWPermission, n: RWPermission): RWPermission {
    const read = new StringSet(rw.read);
    for (const r of n.read ?? []) {
      if (!read.has(r)) this.log.info({ 'read-permission': r }, 'revoking ungranted read permission');
      read.remove(r);
    }
    const write = new StringSet(rw.write);
    for (const w of n.write ?? []) {
      if (!write.has(w)) this.log.info({ 'write-permission': w }, 'revoking ungranted write permission');
      write.remove(w);
    }
    return { read: read.sortedValues(), write: write.sortedValues() };
  }

  // ---- the switch ----

  async enableAuth(): Promise<void> {
    if (this.authEnabled()) throw new AuthError(409, 'already enabled');
    try {
      await this.getUser('root', true);
    } catch (err) {
      if (err instanceof GoPanic) throw err;
      throw new AuthError(409, 'No root user available, please create one');
    }
    let hasGuest = true;
    try {
      await this.getRole(GUEST_ROLE, true);
    } catch (err) {
      if (err instanceof GoPanic) throw err;
      hasGuest = false;
    }
    if (!hasGuest) {
      this.log.info({ 'role-name': GUEST_ROLE }, 'no guest role access found; creating default');
      await this.createRole(guestRole());
    }
    await this.setResource('/enabled', 'true', true);
    this.log.info({}, 'enabled auth');
  }

  async disableAuth(): Promise<void> {
    if (!this.authEnabled()) throw new AuthError(409, 'already disabled');
    await this.setResource('/enabled', 'false', true);
    this.log.info({}, 'disabled auth');
  }

  // ---- requests on the tree, as etcd's auth_requests.go makes them ----

  private async readValue(res: string, quorum: boolean, notFound: () => AuthError): Promise<string> {
    if (!quorum) return this.localValue(res, notFound);
    let ev: V2Event;
    try {
      ev = await this.f.v2AuthRequest({ method: 'QGET', path: joinPerms(res) });
    } catch (err) {
      if (isCode(err, V2ErrorCode.KeyNotFound)) throw notFound();
      throw err;
    }
    return valueOf(ev);
  }

  private localValue(res: string, notFound: () => AuthError): string {
    let ev: V2Event;
    try {
      ev = this.f.v2AuthGet(joinPerms(res));
    } catch (err) {
      if (isCode(err, V2ErrorCode.KeyNotFound)) throw notFound();
      throw err;
    }
    return valueOf(ev);
  }

  private async ensureAuthDirectories(): Promise<void> {
    if (this.ensured) return;
    for (const path of [STORE_PERMS_PREFIX, `${STORE_PERMS_PREFIX}/users/`, `${STORE_PERMS_PREFIX}/roles/`]) {
      try {
        await this.f.v2AuthRequest({ method: 'PUT', path, dir: true, prevExist: false });
      } catch (err) {
        if (isCode(err, V2ErrorCode.NodeExist)) continue;
        this.log.warn({ error: String(err) }, 'failed to create auth directories');
        throw err;
      }
    }
    try {
      await this.f.v2AuthRequest({ method: 'PUT', path: `${STORE_PERMS_PREFIX}/enabled`, value: 'false', prevExist: false });
    } catch (err) {
      if (!isCode(err, V2ErrorCode.NodeExist)) throw err;
    }
    this.ensured = true;
  }

  private async setResource(res: string, value: string, prevExist: boolean): Promise<V2Event> {
    await this.ensureAuthDirectories();
    return this.f.v2AuthRequest({ method: 'PUT', path: joinPerms(res), value, prevExist });
  }

  private async deleteResource(res: string): Promise<void> {
    await this.ensureAuthDirectories();
    await this.f.v2AuthRequest({ method: 'DELETE', path: joinPerms(res), prevExist: true });
  }
}

/** Go's path.Join(StorePermsPrefix, res), as etcd's requests carry it. */
function joinPerms(res: string): string {
  return cleanPath(`${STORE_PERMS_PREFIX}/${res}`);
}

function valueOf(ev: V2Event): string {
  // etcd dereferences Node.Value, nil for a directory
  if (ev.node.dir === true || ev.node.value === undefined) throw new GoPanic('v2 auth: a directory where a value was expected');
  return ev.node.value;
}

function parseRole(name: string, value: string): V2Role {
  const r = decodeRole(value);
  if (r === undefined) throw new Error(`v2 auth: the stored role ${name} is not valid JSON`);
  return r;
}

/**
 * Go's fmt.Sprintf(s) without arguments: etcd formats these two messages first and passes the result
 * to authErr as its format, so a "%" in a name reads as a verb ("%d" → "%!d(MISSING)", "%%" → "%").
 */
export function sprintfNoArgs(s: string): string {
  return s.replace(/%([-+# 0]*(?:\d+|\*)?(?:\.(?:\d+|\*)?)?)?(.?)/gsu, (_m, _flags: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (verb === '') return '%!(NOVERB)';
    return `%!${verb}(MISSING)`;
  });
}

function attachRootRole(u: V2User): V2User {
  if (u.roles?.includes(ROOT_ROLE)) return u;
  return { ...u, roles: [...(u.roles ?? []), ROOT_ROLE] };
}

function grantKv(rw: RWPermission, n: RWPermission): RWPermission {
  const read = new StringSet(rw.read);
  for (const r of n.read ?? []) {
    if (read.has(r)) throw new AuthError(409, `Granting duplicate read permission ${r}`);
    read.add(r);
  }
  const write = new StringSet(rw.write);
  for (const w of n.write ?? []) {
    if (write.has(w)) throw new AuthError(409, `Granting duplicate write permission ${w}`);
    write.add(w);
  }
  return { read: read.sortedValues(), write: write.sortedValues() };
}

// ---- access (Role.HasKeyAccess, HasRecursiveAccess) ----

/**
 * A pattern matches a key when equal, or, ending in "*", when the key starts with what precedes it.
 * An empty pattern is Go's index out of range (etcd's simpleMatch reads its last byte).
 */
function simpleMatch(pattern: string, key: string): boolean {
  if (pattern === '') throw new GoPanic('v2 auth: an empty permission pattern');
  return pattern.endsWith('*') ? key.startsWith(pattern.slice(0, -1)) : key === pattern;
}

function prefixMatch(pattern: string, key: string): boolean {
  if (pattern === '') throw new GoPanic('v2 auth: an empty permission pattern');
  return pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1));
}

export function hasKeyAccess(role: V2Role, key: string, write: boolean): boolean {
  if (role.role === ROOT_ROLE) return true;
  const list = (write ? role.permissions.kv.write : role.permissions.kv.read) ?? [];
  return list.some((p) => simpleMatch(p, key));
}

export function hasRecursiveAccess(role: V2Role, key: string, write: boolean): boolean {
  if (role.role === ROOT_ROLE) return true;
  const list = (write ? role.permissions.kv.write : role.permissions.kv.read) ?? [];
  return list.some((p) => prefixMatch(p, key));
}

export { emptyPermissions };
