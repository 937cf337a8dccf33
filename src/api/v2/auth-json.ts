/*
 * etcd 3.4's v2 auth records (etcdserver/api/v2auth's User, Role, Permissions) as Go's encoding/json
 * reads and writes them: the values stored under /2/users/<name> and /2/roles/<name>, and the bodies of
 * /v2/auth/*. A Go nil slice is `null` here and an empty one `[]` (json.Marshal writes them apart and
 * reflect.DeepEqual tells them apart); a nil *Permissions is `undefined`.
 *   user  {"user":"alice","password":"$2a$10$…","roles":["reader"]}   (password, grant, revoke: omitempty)
 *   role  {"role":"reader","permissions":{"kv":{"read":["/foo/*"],"write":null}}}   (grant, revoke: omitempty)
 * Reading is json.Decoder.Decode into the struct: the first JSON value of the body (what follows it is
 * not read), keys matched case-insensitively, unknown keys skipped, null leaving a field as it was
 * (a slice or pointer: nil), any other type mismatch a failure.
 */
import { goJsonString } from '../../pkg/go-json.js';
import { splitJsonValues } from '../http/json-scan.js';

/** A Go []string: null is nil. */
export type GoStrings = string[] | null;

export interface RWPermission { read: GoStrings; write: GoStrings }
export interface Permissions { kv: RWPermission }

export interface V2User {
  user: string;
  /** The bcrypt hash when stored; the new password (plain) in a request; "" for none. */
  password: string;
  roles: GoStrings;
  grant: GoStrings;
  revoke: GoStrings;
}

export interface V2Role {
  role: string;
  permissions: Permissions;
  grant?: Permissions;
  revoke?: Permissions;
}

export const emptyPermissions = (): Permissions => ({ kv: { read: null, write: null } });
export const emptyUser = (): V2User => ({ user: '', password: '', roles: null, grant: null, revoke: null });
export const emptyRole = (): V2Role => ({ role: '', permissions: emptyPermissions() });

// ---- writing (json.Marshal / json.Encoder.Encode without its "\n") ----

const strings = (xs: GoStrings): string => (xs === null ? 'null' : `[${xs.map(goJsonString).join(',')}]`);

export function permissionsJson(p: Permissions): string {
  return `{"kv":{"read":${strings(p.kv.read)},"write":${strings(p.kv.write)}}}`;
}

export function userJson(u: V2User): string {
  let out = `{"user":${goJsonString(u.user)}`;
  if (u.password !== '') out += `,"password":${goJsonString(u.password)}`;
  out += `,"roles":${strings(u.roles)}`;
  if (u.grant !== null && u.grant.length > 0) out += `,"grant":${strings(u.grant)}`;
  if (u.revoke !== null && u.revoke.length > 0) out += `,"revoke":${strings(u.revoke)}`;
  return `${out}}`;
}

export function roleJson(r: V2Role): string {
  let out = `{"role":${goJsonString(r.role)},"permissions":${permissionsJson(r.permissions)}`;
  if (r.grant !== undefined) out += `,"grant":${permissionsJson(r.grant)}`;
  if (r.revoke !== undefined) out += `,"revoke":${permissionsJson(r.revoke)}`;
  return `${out}}`;
}

/** etcd's userWithRoles: the roles (resolved) left out when there are none. */
export function userWithRolesJson(name: string, roles: readonly V2Role[]): string {
  const rs = roles.length > 0 ? `,"roles":[${roles.map(roleJson).join(',')}]` : '';
  return `{"user":${goJsonString(name)}${rs}}`;
}

// ---- reading (json.Decoder.Decode into the struct) ----

const INVALID = Symbol('invalid JSON');

/** The first JSON value of a body (json.Decoder.Decode: what follows it is not read), or INVALID. */
function firstValue(body: Buffer | string): unknown {
  const { values } = splitJsonValues(typeof body === 'string' ? body : body.toString('utf8'));
  if (values.length === 0) return INVALID;
  try {
    return JSON.parse(values[0]!);
  } catch {
    return INVALID;
  }
}

class TypeMismatch extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's field matching: the exact name, else a case-insensitive one. */
function fieldOf(key: string, names: readonly string[]): string | undefined {
  if (names.includes(key)) return key;
  const k = key.toLowerCase();
  return names.find((n) => n === k);
}

function readString(v: unknown, old: string): string {
  if (v === null) return old;
  if (typeof v !== 'string') throw new TypeMismatch();
  return v;
}

function readStrings(v: unknown, old: GoStrings): GoStrings {
  if (v === null) return null;
  if (!Array.isArray(v)) throw new TypeMismatch();
  return v.map((x, i) => readString(x, old?.[i] ?? ''));
}

/** Decodes `v` into `into` (Go decodes into the value already there: a repeated key merges). */
function readFields(v: unknown, names: readonly string[], set: (field: string, value: unknown) => void): void {
  if (v === null) return;
  if (!isObject(v)) throw new TypeMismatch();
  for (const key of Object.keys(v)) {
    const f = fieldOf(key, names);
    if (f !== undefined) set(f, v[key]);
  }
}

function readPermissions(v: unknown, into: Permissions): Permissions {
  readFields(v, ['kv'], (_f, kv) => readFields(kv, ['read', 'write'], (f, x) => {
    if (f === 'read') into.kv.read = readStrings(x, into.kv.read);
    else into.kv.write = readStrings(x, into.kv.write);
  }));
  return into;
}

function readPermissionsPointer(v: unknown, old: Permissions | undefined): Permissions | undefined {
  if (v === null) return undefined;
  return readPermissions(v, old ?? emptyPermissions());
}

/** A User from a request body or a stored value; undefined where Go's Decode/Unmarshal fails. */
export function decodeUser(body: Buffer | string): V2User | undefined {
  const v = firstValue(body);
  if (v === INVALID) return undefined;
  const u = emptyUser();
  try {
    readFields(v, ['user', 'password', 'roles', 'grant', 'revoke'], (f, x) => {
      if (f === 'user') u.user = readString(x, u.user);
      else if (f === 'password') u.password = readString(x, u.password);
      else if (f === 'roles') u.roles = readStrings(x, u.roles);
      else if (f === 'grant') u.grant = readStrings(x, u.grant);
      else u.revoke = readStrings(x, u.revoke);
    });
  } catch (err) {
    if (err instanceof TypeMismatch) return undefined;
    throw err;
  }
  return u;
}

/** A Role from a request body or a stored value; undefined where Go's Decode/Unmarshal fails. */
export function decodeRole(body: Buffer | string): V2Role | undefined {
  const v = firstValue(body);
  if (v === INVALID) return undefined;
  const r = emptyRole();
  try {
    readFields(v, ['role', 'permissions', 'grant', 'revoke'], (f, x) => {
      if (f === 'role') r.role = readString(x, r.role);
      else if (f === 'permissions') r.permissions = readPermissions(x, r.permissions);
      else if (f === 'grant') r.grant = readPermissionsPointer(x, r.grant);
      else r.revoke = readPermissionsPointer(x, r.revoke);
    });
  } catch (err) {
    if (err instanceof TypeMismatch) return undefined;
    throw err;
  }
  return r;
}

// ---- Go's comparisons ----

/** Go's sort.Strings order (bytewise on UTF-8). */
export function goSortStrings(xs: string[]): string[] {
  return xs.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** reflect.DeepEqual of two []string: nil and empty differ, order counts. */
export function sameStrings(a: GoStrings, b: GoStrings): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function samePermissions(a: Permissions | undefined, b: Permissions | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return sameStrings(a.kv.read, b.kv.read) && sameStrings(a.kv.write, b.kv.write);
}

export function sameUser(a: V2User, b: V2User): boolean {
  return a.user === b.user && a.password === b.password && sameStrings(a.roles, b.roles) &&
    sameStrings(a.grant, b.grant) && sameStrings(a.revoke, b.revoke);
}

export function sameRole(a: V2Role, b: V2Role): boolean {
  return a.role === b.role && samePermissions(a.permissions, b.permissions) &&
    samePermissions(a.grant, b.grant) && samePermissions(a.revoke, b.revoke);
}

/** Permissions.IsEmpty: nil, or no read and no write pattern. */
export function isEmptyPermissions(p: Permissions | undefined): boolean {
  return p === undefined || ((p.kv.read?.length ?? 0) === 0 && (p.kv.write?.length ?? 0) === 0);
}
