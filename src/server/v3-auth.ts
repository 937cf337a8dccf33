/*
 * The Auth service and the caller's identity, for the facade (etcd's v3_server.go auth parts):
 *  - authInfo: the user and auth revision of the call's token (etcd's AuthInfoFromCtx), else of its
 *    client certificate's common name under --client-cert-auth (AuthInfoFromTLS). A simple token
 *    names the raft index of the Authenticate that made it; it is looked up once this member has
 *    applied that index; a JWT carries its user and revision. A token this member does not know is
 *    "invalid auth token", whether or not auth is enabled.
 *  - authenticate: password checked here with bcrypt (off the event loop), then an Authenticate entry
 *    carrying only the name and a fresh random token prefix, so the password never enters the log;
 *    retried if the auth revision moved meanwhile.
 *  - user and role management: proposed with the caller's identity, checked and applied on every
 *    member (apply-auth.ts).
 *  - the read side's checks: a range or read-only txn is checked here before it is served, and
 *    refused afterwards if the auth revision moved while it ran (etcd's doSerialize).
 */
import { AuthError, type AuthInfo, type TokenInfo } from '../auth/index.js';
import type { AuthenticateRequest__Output } from '../pb/etcdserverpb/AuthenticateRequest.js';
import type { AuthenticateResponse } from '../pb/etcdserverpb/AuthenticateResponse.js';
import type { ResponseHeader } from '../pb/etcdserverpb/ResponseHeader.js';
import { authToEtcdError } from './auth-checks.js';
import { permissionToPb } from './auth-convert.js';
import type { AuthResult } from './apply-v3.js';
import { EtcdError } from './errors.js';
import type { AuthFacade, CallContext } from './facade.js';
import type { InternalRaftRequest } from './internal-request.js';
import type { EtcdServer } from './server.js';

/** The identity of a request without a token: checks then answer "user name is empty". */
export const NO_USER: AuthInfo = { username: '', revision: 0 };

type AuthField = Exclude<keyof InternalRaftRequest, 'header' | 'ID' | 'v2' | 'range' | 'put' | 'delete_range' | 'txn' | 'compaction' | 'lease_grant' | 'lease_revoke' | 'alarm' | 'lease_checkpoint'>;

export class V3Auth {
  constructor(
    private readonly s: EtcdServer,
    private readonly header: () => ResponseHeader,
  ) {}

  /** Whether a call without a token (nor a certificate name that counts) may skip every auth step (the hot path). */
  bypass(ctx: CallContext | undefined): boolean {
    return ctx === undefined ? !this.s.auth.enabled : ctx.token === undefined && !this.s.auth.enabled && this.tlsName(ctx) === undefined;
  }

  /** The client certificate's common name, when --client-cert-auth makes it count (etcd's AuthInfoFromTLS). */
  private tlsName(ctx: CallContext | undefined): string | undefined {
    return this.s.cfg.clientCertAuth === true ? ctx?.commonName : undefined;
  }

  /**
   * etcd's AuthInfoFromCtx, then AuthInfoFromTLS: the token's user (a simple token once this member
   * has applied the index it names), 'InvalidAuthToken' for a token not known here; without a token,
   * the certificate's common name at the store's revision; else undefined.
   */
  async authInfo(ctx: CallContext | undefined): Promise<AuthInfo | undefined> {
    const token = ctx?.token;
    if (token === undefined) return this.tlsInfo(ctx);
    const index = this.s.tokens.indexOf(token);
    if (index !== undefined && index > this.s.appliedIndex) await this.s.waitApplied(index).catch(() => undefined);
    const r = this.s.tokens.info(token, this.s.now(), this.s.auth.revision);
    const info = r instanceof Promise ? await r : r;
    if (info === undefined) throw this.invalidToken(token);
    return { username: info.username, revision: info.revision };
  }

  private tlsInfo(ctx: CallContext | undefined): AuthInfo | undefined {
    const cn = this.tlsName(ctx);
    return cn === undefined ? undefined : { username: cn, revision: this.s.auth.revision };
  }

  /**
   * A watch stream's identity, read synchronously at each watch creation (etcd's isWatchPermitted):
   * `ready`, when set, is what the stream's requests wait for first (a simple token's index not yet
   * applied here, a JWT not yet verified); a JWT's claims are then kept by the stream, to their exp.
   */
  watchIdentity(ctx: CallContext | undefined): { ready?: Promise<void>; now(): AuthInfo | undefined } {
    const token = ctx?.token;
    if (token === undefined) return { now: () => this.tlsInfo(ctx) };
    let kept: TokenInfo | undefined;
    const now = (): AuthInfo => {
      if (kept?.expiresAtMs !== undefined && this.s.now() <= kept.expiresAtMs) return { username: kept.username, revision: kept.revision };
      const r = this.s.tokens.info(token, this.s.now(), this.s.auth.revision);
      if (r === undefined || r instanceof Promise) throw this.invalidToken(token);
      return { username: r.username, revision: r.revision };
    };
    const index = this.s.tokens.indexOf(token);
    if (index !== undefined) return index > this.s.appliedIndex ? { ready: this.s.waitApplied(index).then(() => undefined, () => undefined), now } : { now };
    const r = this.s.tokens.info(token, this.s.now(), this.s.auth.revision);
    if (!(r instanceof Promise)) {
      kept = r;
      return { now };
    }
    return { ready: r.then((i) => void (kept = i)), now };
  }

  private invalidToken(token: string): EtcdError {
    this.s.logger.warn({ token }, 'invalid auth token');
    return new EtcdError('InvalidAuthToken');
  }

  /** Runs a local read under `check` (etcd's doSerialize). */
  async serialized<T>(ctx: CallContext | undefined, check: (ai: AuthInfo) => void, read: () => Promise<T>): Promise<T> {
    const ai = (await this.authInfo(ctx)) ?? NO_USER;
    try {
      check(ai);
    } catch (e) {
      throw authToEtcdError(e);
    }
    const r = await read();
    if (ai.revision !== 0 && ai.revision !== this.s.auth.revision) throw new EtcdError('AuthOldRevision');
    return r;
  }

  /** Root only, when auth is enabled (membership changes: etcd's errors, mapped). */
  async admin(ctx: CallContext | undefined): Promise<void> {
    if (this.bypass(ctx)) return;
    const ai = await this.authInfo(ctx);
    try {
      this.s.auth.isAdminPermitted(ai);
    } catch (e) {
      throw authToEtcdError(e);
    }
  }

  /**
   * Root only, for defragment, hash, hashKV and snapshot: etcd's authMaintenanceServer returns the
   * auth store's errors unmapped, so the client sees gRPC Unknown and "auth: permission denied".
   */
  async maintenanceAdmin(ctx: CallContext | undefined): Promise<void> {
    if (this.bypass(ctx)) return;
    try {
      const ai = (await this.authInfo(ctx).catch((e: unknown) => {
        throw (e as { code?: string }).code === 'InvalidAuthToken' ? new AuthError('InvalidAuthToken') : e;
      }));
      this.s.auth.isAdminPermitted(ai);
    } catch (e) {
      if (e instanceof AuthError) throw new Error(e.message);
      throw e;
    }
  }

  private async proposeAuth(field: AuthField, body: object, ctx: CallContext | undefined): Promise<AuthResult> {
    const ai = await this.authInfo(ctx);
    const r = await this.s.propose({ [field]: body } as Omit<InternalRaftRequest, 'header'>, ai);
    if (r.kind !== 'auth') throw new Error(`apply returned ${r.kind} for ${field}`);
    return r;
  }

  async authenticate(req: AuthenticateRequest__Output, ctx: CallContext | undefined): Promise<AuthenticateResponse> {
    await this.s.readIndexer.waitLinearizable();
    for (;;) {
      let checked: number;
      try {
        checked = await this.s.auth.checkPassword(req.name, req.password);
      } catch (e) {
        if (e instanceof AuthError && e.code !== 'AuthNotEnabled') this.s.logger.warn({ user: req.name, error: e.code }, 'invalid authentication was requested');
        throw authToEtcdError(e);
      }
      const prefix = this.s.tokens.genTokenPrefix();
      const r = await this.proposeAuth('authenticate', { name: req.name, simple_token: prefix }, ctx);
      const token = typeof r.token === 'function' ? await r.token() : (r.token ?? '');
      if (checked === this.s.auth.revision) return { header: this.header(), token };
      this.s.logger.info('revision when password checked became stale; retrying');
    }
  }

  handlers(): Omit<AuthFacade, 'authenticate'> {
    const ok = async (field: AuthField, body: object, ctx?: CallContext): Promise<{ header: ResponseHeader }> => {
      await this.proposeAuth(field, body, ctx);
      return { header: this.header() };
    };
    const names = async (field: AuthField, body: object, ctx?: CallContext): Promise<string[]> => (await this.proposeAuth(field, body, ctx)).names ?? [];
    return {
      authEnable: (req, ctx) => ok('auth_enable', req, ctx),
      authDisable: (req, ctx) => ok('auth_disable', req, ctx),
      userAdd: (req, ctx) => ok('auth_user_add', req, ctx),
      userDelete: (req, ctx) => ok('auth_user_delete', req, ctx),
      userChangePassword: (req, ctx) => ok('auth_user_change_password', req, ctx),
      userGrantRole: (req, ctx) => ok('auth_user_grant_role', req, ctx),
      userRevokeRole: (req, ctx) => ok('auth_user_revoke_role', req, ctx),
      userGet: async (req, ctx) => ({ header: this.header(), roles: await names('auth_user_get', req, ctx) }),
      userList: async (req, ctx) => ({ header: this.header(), users: await names('auth_user_list', req, ctx) }),
      roleAdd: (req, ctx) => ok('auth_role_add', req, ctx),
      roleDelete: (req, ctx) => ok('auth_role_delete', req, ctx),
      roleGrantPermission: (req, ctx) => ok('auth_role_grant_permission', req, ctx),
      roleRevokePermission: (req, ctx) => ok('auth_role_revoke_permission', req, ctx),
      roleGet: async (req, ctx) => ({ header: this.header(), perm: ((await this.proposeAuth('auth_role_get', req, ctx)).perms ?? []).map(permissionToPb) }),
      roleList: async (req, ctx) => ({ header: this.header(), roles: await names('auth_role_list', req, ctx) }),
    };
  }
}
