/*
 * Who may do what once v2 auth is on (etcd 3.4's v2http/client_auth.go), for /v2/keys, /v2/members and
 * /v2/auth/*:
 *   - a request with an Authorization header is its HTTP basic user (a bad header, an unknown user or
 *     a wrong password: refused); without one, with --client-cert-auth, the first user named by a
 *     common name of its verified certificate chain, else (keys only) the guest role;
 *   - /v2/auth/* and the members changes need a user holding the root role (GET /v2/auth/enable and
 *     GET /v2/members need nothing);
 *   - a key needs one of the user's roles to grant it: a read pattern for GET and HEAD, a write one
 *     otherwise; "/foo/*" grants every key starting with "/foo/", "/foo" only "/foo"; a recursive
 *     request needs a pattern ending in "*" that covers the key; the guest role is checked
 *     non-recursively whatever the request.
 * Every check starts with the read of /2/enabled (counted in the store stats, as etcd's) and answers
 * true at once, synchronously, while v2 auth is off. Passwords are compared with bcrypt off the event
 * loop (an unknown user costs no bcrypt, as in etcd).
 */
import type { TLSSocket, PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import type { Socket } from 'node:net';
import {
  GoPanic, GUEST_ROLE, hasKeyAccess, hasRecursiveAccess, ROOT_ROLE, SILENT_LOG, type AuthStoreLog, type V2AuthStore,
} from './auth-store.js';
import type { V2User } from './auth-json.js';
import { decodeBase64Std } from '../http/json-scan.js';

/** What the checks read of a request. */
export interface AccessRequest {
  readonly method: string;
  /** The Authorization header ("" or undefined: none). */
  readonly authorization?: string;
  /** The connection, for the client certificate's common names (read only with --client-cert-auth). */
  readonly socket?: Socket;
}

/** Go's Request.BasicAuth: "Basic " (any case) and standard base64 (padded) of "user:password". */
export function parseBasicAuth(header: string): { user: string; password: Buffer } | undefined {
  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  let raw: Buffer;
  try {
    raw = decodeBase64Std(header.slice(6));
  } catch {
    return undefined;
  }
  const colon = raw.indexOf(0x3a);
  if (colon < 0) return undefined;
  return { user: raw.subarray(0, colon).toString('utf8'), password: raw.subarray(colon + 1) };
}

/** The common names of a TLS connection's verified client certificate chain, leaf first. */
export function certCommonNames(socket: Socket | undefined): string[] {
  const tls = socket as TLSSocket | undefined;
  if (tls === undefined || typeof tls.getPeerCertificate !== 'function' || !tls.authorized) return [];
  const names: string[] = [];
  let cert: DetailedPeerCertificate | PeerCertificate | undefined = tls.getPeerCertificate(true);
  const seen = new Set<unknown>();
  while (cert !== undefined && cert !== null && Object.keys(cert).length > 0 && !seen.has(cert)) {
    seen.add(cert);
    const cn = cert.subject?.CN;
    names.push(Array.isArray(cn) ? cn[0] ?? '' : cn ?? '');
    cert = (cert as DetailedPeerCertificate).issuerCertificate;
  }
  return names;
}

const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD';

export class V2AuthAccess {
  constructor(
    private readonly store: V2AuthStore,
    private readonly clientCertAuth: boolean,
    private readonly log: AuthStoreLog = SILENT_LOG,
  ) {}

  /** Non-GET requests of /v2/members and /v2/auth/enable need root (etcd's hasWriteRootAccess). */
  hasWriteRootAccess(req: AccessRequest): boolean | Promise<boolean> {
    if (isRead(req.method)) return true;
    return this.hasRootAccess(req);
  }

  hasRootAccess(req: AccessRequest): boolean | Promise<boolean> {
    if (!this.store.authEnabled()) return true;
    return this.rootAccess(req);
  }

  /** Access to `key` (the /v2/keys path after "/v2/keys"). */
  hasKeyPrefixAccess(req: AccessRequest, key: string, recursive: boolean): boolean | Promise<boolean> {
    if (!this.store.authEnabled()) return true;
    return this.keyAccess(req, key, recursive);
  }

  private async rootAccess(req: AccessRequest): Promise<boolean> {
    let user: V2User | undefined;
    if ((req.authorization ?? '') === '' && this.clientCertAuth) user = this.userFromClientCertificate(req);
    else user = await this.userFromBasicAuth(req);
    if (user === undefined) return false;
    if (user.roles?.includes(ROOT_ROLE)) return true;
    this.log.warn({ 'root-user': user.user, 'root-role-name': ROOT_ROLE }, 'a user does not have root role for resource');
    return false;
  }

  private async keyAccess(req: AccessRequest, key: string, recursive: boolean): Promise<boolean> {
    let user: V2User | undefined;
    if ((req.authorization ?? '') === '') {
      if (this.clientCertAuth) user = this.userFromClientCertificate(req);
      if (user === undefined) return this.guestAccess(req, key);
    } else {
      user = await this.userFromBasicAuth(req);
      if (user === undefined) return false;
    }
    const write = !isRead(req.method);
    for (const name of user.roles ?? []) {
      let role;
      try {
        role = this.store.getRoleLocal(name);
      } catch (err) {
        if (err instanceof GoPanic) throw err;
        continue;
      }
      if (recursive ? hasRecursiveAccess(role, key, write) : hasKeyAccess(role, key, write)) return true;
    }
    this.log.warn({ 'user-name': user.user, key }, 'invalid access for user on key');
    return false;
  }

  private guestAccess(req: AccessRequest, key: string): boolean {
    let role;
    try {
      role = this.store.getRoleLocal(GUEST_ROLE);
    } catch (err) {
      if (err instanceof GoPanic) throw err;
      return false;
    }
    if (hasKeyAccess(role, key, !isRead(req.method))) return true;
    this.log.warn({ 'role-name': GUEST_ROLE, key }, 'invalid access for a guest role on key');
    return false;
  }

  private async userFromBasicAuth(req: AccessRequest): Promise<V2User | undefined> {
    const creds = parseBasicAuth(req.authorization ?? '');
    if (creds === undefined) {
      this.log.warn({}, 'malformed basic auth encoding');
      return undefined;
    }
    const user = this.lookUp(creds.user);
    if (user === undefined) return undefined;
    if (!(await this.store.checkPassword(user, creds.password))) {
      this.log.warn({ 'user-name': creds.user }, 'incorrect password');
      return undefined;
    }
    return user;
  }

  private userFromClientCertificate(req: AccessRequest): V2User | undefined {
    for (const cn of certCommonNames(req.socket)) {
      const user = this.lookUp(cn);
      if (user !== undefined) return user;
    }
    return undefined;
  }

  private lookUp(name: string): V2User | undefined {
    try {
      return this.store.getUserLocal(name);
    } catch (err) {
      if (err instanceof GoPanic) throw err;
      return undefined;
    }
  }
}
