/*
 * etcd's JWT token provider (--auth-token=jwt,...), signed and verified with jose. A token is a JWS
 * with etcd's header {"alg":...,"typ":"JWT"} and claims {"exp":<unix s>,"revision":<auth revision at
 * Authenticate>,"username":...} (Go's encoding/json order), so tokens of etcd and of ours pass on
 * either when the members share keys. Nothing is stored on the members: the revision in the claims is
 * the one checked against the store, and a token lives until its exp.
 *
 * jose is asynchronous: Authenticate's apply hands the proposer a function that signs (the others
 * never sign), and a verified token's claims are kept (at most JWT_VERIFIED_MAX, dropped at exp) so a
 * repeated token is known synchronously.
 */
import { SignJWT, jwtVerify } from 'jose';
import type { JwtConfig } from './jwt-options.js';
import type { AssignedToken, TokenInfo, TokenProvider } from './simple-token.js';

export const VERIFY_ONLY_TEXT = 'auth: token signing attempted with verify-only key';
/** Verified tokens kept for synchronous lookups. */
export const JWT_VERIFIED_MAX = 65_536;

export class JwtTokenProvider implements TokenProvider {
  private verified = new Map<string, TokenInfo & { expiresAtMs: number }>();

  constructor(
    private readonly cfg: JwtConfig,
    private readonly onInvalid: (token: string, why: string) => void = () => {},
  ) {}

  get verifyOnly(): boolean {
    return this.cfg.signKey === undefined;
  }

  genTokenPrefix(): string {
    return '';
  }
  enable(): void {}
  disable(): void {}
  invalidateUser(): void {}
  indexOf(): undefined {
    return undefined;
  }

  /** A function that signs the token at the proposer (etcd's assign: exp = now + ttl). */
  assign(user: string, _prefix: string, _index: number, nowMs: number, revision: number): AssignedToken {
    const { signKey, alg, ttlMs } = this.cfg;
    return async () => {
      if (signKey === undefined) throw new Error(VERIFY_ONLY_TEXT);
      const exp = Math.floor((nowMs + ttlMs) / 1000);
      return new SignJWT({ exp, revision, username: user }).setProtectedHeader({ alg, typ: 'JWT' }).sign(signKey);
    };
  }

  info(token: string, nowMs: number): TokenInfo | undefined | Promise<TokenInfo | undefined> {
    const v = this.verified.get(token);
    if (v !== undefined) {
      if (nowMs <= v.expiresAtMs) return v;
      this.verified.delete(token);
      this.onInvalid(token, 'token is expired');
      return undefined;
    }
    return this.verify(token);
  }

  private async verify(token: string): Promise<TokenInfo | undefined> {
    try {
      // clockTolerance 1: Go's jwt takes a token through the whole second of its exp
      const { payload } = await jwtVerify(token, this.cfg.verifyKey, { algorithms: [this.cfg.alg], clockTolerance: 1 });
      const { username, revision, exp } = payload as { username?: unknown; revision?: unknown; exp?: unknown };
      if (typeof username !== 'string' || typeof revision !== 'number') throw new Error('claims without username or revision');
      const expiresAtMs = typeof exp === 'number' ? exp * 1000 + 999 : Number.MAX_SAFE_INTEGER;
      const info = { username, revision, expiresAtMs };
      if (this.verified.size >= JWT_VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, info);
      return info;
    } catch (e) {
      this.onInvalid(token, e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  /** Drops expired verified tokens; the count dropped. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const [t, v] of this.verified) {
      if (nowMs > v.expiresAtMs) {
        this.verified.delete(t);
        n++;
      }
    }
    return n;
  }
}
