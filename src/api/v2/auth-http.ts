/*
 * /v2/auth (etcd 3.4's v2http/client_auth.go), a raw handler ahead of fastify like /v2/keys:
 *   /v2/auth/enable        GET {"enabled":false}\n (anyone) · PUT enable · DELETE disable (root)
 *   /v2/auth/users[/]      GET {"users":[{"user":"root","roles":[<role>…]}…]}\n  ({"users":null} when none)
 *   /v2/auth/users/NAME    GET {"user":…,"roles":[<role>…]}\n · PUT <user JSON> · DELETE
 *   /v2/auth/roles[/]      GET {"roles":[<role>…]}\n (root's built in)
 *   /v2/auth/roles/NAME    GET <role>\n · PUT <role JSON> · DELETE
 * A user PUT without grant/revoke creates (with roles: 200; with only a password: 201, or 200 when it
 * updated an existing user's password); with grant/revoke it updates (200); the answer is the user
 * without its password. A role PUT without grant/revoke creates (201, the role as sent), with them updates
 * (200, the merged role). DELETE and enable/disable answer 200 with no body.
 * Order of checks, as etcd's: Go's path cleaning (301), the cluster version (500 "Not capable of
 * accessing auth feature during rolling upgrades." until it is decided), a deeper path (400 "Invalid
 * path"), the method (405, Allow), root (401 {"message":"Insufficient credentials"}), then the store.
 * Errors: {"message":"auth: …"} with the store's status (no "\n"), a store V2Error as /v2/keys writes
 * it, anything else 500 {"message":"Internal Server Error"}; what Go would panic on closes the connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { V2Facade, VersionInfo } from '../../server/facade.js';
import { V2Error } from '../../v2store/index.js';
import type { AccessRequest, V2AuthAccess } from './auth-access.js';
import { decodeRole, decodeUser, isEmptyPermissions, roleJson, userJson, userWithRolesJson, type V2Role } from './auth-json.js';
import { AuthError, GoPanic, type V2AuthStore } from './auth-store.js';
import { FORM_BODY_BYTES_MAX, parseForm } from './form.js';
import { readBody, splitUrl } from './keys.js';
import { clusterIdHex, goCleanPath, methodNotAllowed, RawReply, redirectClean, sendKeysError, sendMessage, writeGo, type GoReply } from './reply.js';

const AUTH_PREFIX = '/v2/auth';

export type AuthHttpFacade = Pick<V2Facade, 'v2Header'> & { version(): VersionInfo };

interface AuthContext {
  readonly facade: AuthHttpFacade;
  readonly store: V2AuthStore;
  readonly access: V2AuthAccess;
}

interface AuthCall {
  readonly method: string;
  /** The cleaned path after /v2/auth: "/enable", "/users", "/users/alice", … */
  readonly sub: string;
  readonly rawQuery: string | undefined;
  readonly body: Buffer | undefined;
  readonly access: AccessRequest;
}

/** Which of etcd's five patterns serves a cleaned path (Go's ServeMux: exact, or a subtree "…/"). */
function routeOf(path: string): boolean {
  if (path === `${AUTH_PREFIX}/enable`) return true;
  for (const p of ['/roles', '/users']) {
    const base = `${AUTH_PREFIX}${p}`;
    if (path === base || path.startsWith(`${base}/`)) return true;
  }
  return false;
}

/** The raw handler: answers /v2/auth/{enable,users[/…],roles[/…]} and returns true; false for anything else. */
export function authHandler(facade: AuthHttpFacade, store: V2AuthStore, access: V2AuthAccess) {
  const ctx: AuthContext = { facade, store, access };
  return (req: IncomingMessage, res: ServerResponse, cors: Readonly<Record<string, string>>): boolean => {
    const url = req.url ?? '';
    const method = req.method ?? 'GET';
    if (!url.startsWith(`${AUTH_PREFIX}/`) || method === 'OPTIONS') return false;
    const { path, rawQuery } = splitUrl(url);
    if (path === undefined) return false;
    const cleaned = goCleanPath(path);
    if (!routeOf(cleaned)) return false;
    const reply = new RawReply(res, cors);
    req.on('error', () => {});
    if (cleaned !== path) {
      req.resume();
      redirectClean(reply, method, cleaned, rawQuery);
      return true;
    }
    const run = (body: Buffer | undefined): void => {
      const call: AuthCall = {
        method, sub: path.slice(AUTH_PREFIX.length), rawQuery, body,
        access: { method, authorization: req.headers.authorization, socket: req.socket },
      };
      serve(ctx, call, reply).catch((err: unknown) => {
        if (err instanceof GoPanic || res.headersSent) res.destroy();
        else writeError(reply, err);
      });
    };
    if (method === 'PUT' || method === 'POST' || method === 'PATCH') readBody(req, FORM_BODY_BYTES_MAX, run);
    else {
      req.resume();
      run(undefined);
    }
    return true;
  };
}

function writeError(reply: GoReply, err: unknown): void {
  if (err instanceof AuthError) sendMessage(reply, err.status, err.message);
  else if (err instanceof V2Error) sendKeysError(reply, err);
  else sendMessage(reply, 500, 'Internal Server Error');
}

function allowed(reply: GoReply, method: string, methods: readonly string[]): boolean {
  if (methods.includes(method)) return true;
  methodNotAllowed(reply, methods.join(','));
  return false;
}

async function serve(ctx: AuthContext, call: AuthCall, reply: GoReply): Promise<void> {
  if (ctx.facade.version().etcdcluster === 'not_decided') {
    sendMessage(reply, 500, 'Not capable of accessing auth feature during rolling upgrades.');
    return;
  }
  if (call.sub === '/enable') return enableDisable(ctx, call, reply);
  // "/users/" and "/users" are the collection; "/users/a/b" is no path of etcd's
  const pieces = call.sub.replace(/\/$/, '').split('/');
  if (pieces.length > 3) {
    sendMessage(reply, 400, 'Invalid path');
    return;
  }
  const name = pieces[2];
  if (pieces[1] === 'roles') return name === undefined ? baseRoles(ctx, call, reply) : forRole(ctx, call, reply, name);
  return name === undefined ? baseUsers(ctx, call, reply) : forUser(ctx, call, reply, name);
}

/** etcd's method check then root check; on success the headers every answer of the store carries. */
async function admit(ctx: AuthContext, call: AuthCall, reply: GoReply, methods: readonly string[], writeOnly = false): Promise<boolean> {
  if (!allowed(reply, call.method, methods)) return false;
  const ok = writeOnly ? ctx.access.hasWriteRootAccess(call.access) : ctx.access.hasRootAccess(call.access);
  if (!(ok === true || (ok !== false && (await ok)))) {
    writeNoAuth(reply);
    return false;
  }
  reply.header('X-Etcd-Cluster-Id', clusterIdHex(ctx.facade.v2Header()));
  return true;
}

/** etcd's writeNoAuth. */
export function writeNoAuth(reply: GoReply): void {
  sendMessage(reply, 401, 'Insufficient credentials');
}

const json = (reply: GoReply, status: number, body: string): void => void writeGo(reply, status, { 'Content-Type': 'application/json' }, body);
const empty = (reply: GoReply): void => json(reply, 200, '');

/** r.ParseForm of a GET: a bad query is etcd's 500 (it answers the parse error as an unexpected one). */
function formOk(call: AuthCall): boolean {
  return !('error' in parseForm(call.method, call.rawQuery ?? '', undefined, undefined));
}

async function enableDisable(ctx: AuthContext, call: AuthCall, reply: GoReply): Promise<void> {
  if (!(await admit(ctx, call, reply, ['GET', 'PUT', 'DELETE'], true))) return;
  const enabled = ctx.store.authEnabled();
  if (call.method === 'GET') return json(reply, 200, `{"enabled":${enabled}}\n`);
  if (call.method === 'PUT') await ctx.store.enableAuth();
  else await ctx.store.disableAuth();
  empty(reply);
}

async function baseRoles(ctx: AuthContext, call: AuthCall, reply: GoReply): Promise<void> {
  if (!(await admit(ctx, call, reply, ['GET']))) return;
  const names = ctx.store.allRoles();
  if (!formOk(call)) throw new Error('bad query');
  const roles: V2Role[] = [];
  for (const n of names) roles.push(await ctx.store.getRole(n));
  json(reply, 200, `{"roles":${roles.length === 0 ? 'null' : `[${roles.map(roleJson).join(',')}]`}}\n`);
}

async function forRole(ctx: AuthContext, call: AuthCall, reply: GoReply, name: string): Promise<void> {
  if (!(await admit(ctx, call, reply, ['GET', 'PUT', 'DELETE']))) return;
  if (call.method === 'GET') return json(reply, 200, `${roleJson(await ctx.store.getRole(name))}\n`);
  if (call.method === 'DELETE') {
    await ctx.store.deleteRole(name);
    return empty(reply);
  }
  const role = decodeRole(call.body ?? Buffer.alloc(0));
  if (role === undefined) throw new AuthHttpError(400, 'Invalid JSON in request body.');
  if (role.role !== name) throw new AuthHttpError(400, 'Role JSON name does not match the name in the URL');
  if (isEmptyPermissions(role.grant) && isEmptyPermissions(role.revoke)) {
    await ctx.store.createRole(role);
    return json(reply, 201, `${roleJson(role)}\n`);
  }
  if (!isEmptyPermissions(role.permissions)) throw new AuthHttpError(400, 'Role JSON contains both permissions and grant/revoke');
  json(reply, 200, `${roleJson(await ctx.store.updateRole(role))}\n`);
}

async function baseUsers(ctx: AuthContext, call: AuthCall, reply: GoReply): Promise<void> {
  if (!(await admit(ctx, call, reply, ['GET']))) return;
  const names = ctx.store.allUsers();
  if (!formOk(call)) throw new Error('bad query');
  const users: string[] = [];
  for (const n of names) {
    const u = await ctx.store.getUser(n);
    const roles: V2Role[] = [];
    for (const r of u.roles ?? []) {
      try {
        roles.push(await ctx.store.getRole(r));
      } catch (err) {
        if (err instanceof GoPanic) throw err;
      }
    }
    users.push(userWithRolesJson(u.user, roles));
  }
  json(reply, 200, `{"users":${users.length === 0 ? 'null' : `[${users.join(',')}]`}}\n`);
}

async function forUser(ctx: AuthContext, call: AuthCall, reply: GoReply, name: string): Promise<void> {
  if (!(await admit(ctx, call, reply, ['GET', 'PUT', 'DELETE']))) return;
  if (call.method === 'GET') {
    const u = await ctx.store.getUser(name);
    if (!formOk(call)) throw new Error('bad query');
    const roles: V2Role[] = [];
    for (const r of u.roles ?? []) roles.push(await ctx.store.getRole(r));
    return json(reply, 200, `${userWithRolesJson(u.user, roles)}\n`);
  }
  if (call.method === 'DELETE') {
    await ctx.store.deleteUser(name);
    return empty(reply);
  }
  const u = decodeUser(call.body ?? Buffer.alloc(0));
  if (u === undefined) throw new AuthHttpError(400, 'Invalid JSON in request body.');
  if (u.user !== name) throw new AuthHttpError(400, 'User JSON name does not match the name in the URL');
  let out;
  let created = false;
  if ((u.grant?.length ?? 0) === 0 && (u.revoke?.length ?? 0) === 0) {
    if ((u.roles?.length ?? 0) !== 0) out = await ctx.store.createUser(u);
    else ({ user: out, created } = await ctx.store.createOrUpdateUser(u));
  } else {
    if ((u.roles?.length ?? 0) !== 0) throw new AuthHttpError(400, 'User JSON contains both roles and grant/revoke');
    out = await ctx.store.updateUser(u);
  }
  json(reply, created ? 201 : 200, `${userJson({ ...out, password: '' })}\n`);
}

/** etcd's httptypes.HTTPError of these handlers: {"message": …} without the "auth: " prefix. */
class AuthHttpError extends AuthError {
  constructor(status: number, message: string) {
    super(status, message);
    this.message = message;
  }
}
