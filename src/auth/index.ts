/*
 * auth/: etcd 3.4's authentication and authorization state.
 *
 * Model. Users (name, bcrypt password hash or none, sorted role names), roles (name, key-range
 * permissions READ / WRITE / READWRITE sorted by key), an enabled flag and an auth revision that every
 * change of users or roles bumps. The user `root` holding the role `root` may do anything; auth can
 * only be enabled when that user exists with that role, and while it is enabled neither can be removed.
 *
 * On disk (records.ts), as etcd's buckets: `auth/authEnabled` = 01 or 00, `auth/authRevision` = 8 bytes
 * big-endian, `authUsers/<name>` = authpb.User, `authRoles/<name>` = authpb.Role (gogoproto bytes).
 *
 * Contract. The server opens the store at start (AuthStore.open) and reloads it after a snapshot
 * install. Mutations (authEnable, userAdd, roleGrantPermission, ...) are called ONLY while applying a
 * raft entry, so every member agrees; each writes the pending backend batch of that entry. Checks
 * (isRangePermitted, isPutPermitted, isAdminPermitted, ...) throw AuthError and are called by the
 * server both before serving a local read and while applying a proposed request, with the AuthInfo
 * (user and auth revision) of the request's token. Tokens are the server's (token-provider.ts parses
 * --auth-token): simple ones (simple-token.ts) have a prefix the server draws and the apply makes
 * "<prefix>.<index>", swept with the server's clock; JWTs (jwt-token.ts) carry user, revision and exp.
 */
export { AUTH_ERROR_TEXT, AuthError, AuthStore, DEFAULT_BCRYPT_COST, ROOT_ROLE, ROOT_USER } from './store.js';
export type { AuthBackend, AuthErrorCode, AuthInfo, AuthStoreOptions, PermissionRequest, UserAddRequest } from './store.js';
export { RangePermissions, type KeyPermission, type PermType } from './permissions.js';
export { decodeRole, decodeUser, encodeRole, encodeUser, type Role, type User } from './records.js';
export { DEFAULT_SIMPLE_TOKEN_TTL_MS, NopTokenProvider, SimpleTokenProvider, simpleTokenIndex, type AssignedToken, type TokenInfo, type TokenProvider } from './simple-token.js';
export { newTokenProvider, type TokenProviderDeps } from './token-provider.js';
export { JwtTokenProvider, VERIFY_ONLY_TEXT } from './jwt-token.js';
export { DEFAULT_JWT_TTL_MS, parseGoDurationMs, parseJwtOptions, type JwtConfig } from './jwt-options.js';
