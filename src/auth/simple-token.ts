/*
 * etcd's simple token provider (--auth-token=simple). A token is "<16 random letters>.<raft index>":
 * the member that receives Authenticate draws the letters (genTokenPrefix) and proposes them with the
 * user name; every member, applying that entry at index i, records "<prefix>.<i>" for the user, so
 * any member can check it once it has applied i. A token lives --auth-token-ttl seconds after its last
 * use; it goes when its user is deleted or changes password, and all go when auth is disabled.
 *
 * Time and randomness come in as arguments (nowMs, the random source): the server drives `sweep`.
 */
import { AuthError } from './store.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PREFIX_LENGTH = 16;
/** etcd's simpleTokenTTLDefault. */
export const DEFAULT_SIMPLE_TOKEN_TTL_MS = 300_000;

interface TokenEntry {
  user: string;
  expiresAtMs: number;
}

/** The index part of a well-formed simple token, or undefined (etcd's isValidSimpleToken split). */
export function simpleTokenIndex(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const s = parts[1]!;
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Who a token names: the user, and the auth revision its checks are made at. */
export interface TokenInfo {
  username: string;
  revision: number;
  /** Set by self-contained tokens (JWT): the last ms of their life. */
  expiresAtMs?: number;
}

/** An applied Authenticate's token: a simple token at once, a JWT as a function the proposer calls to sign it. */
export type AssignedToken = string | (() => Promise<string>);

/** What the server asks of a token provider (etcd's TokenProvider). */
export interface TokenProvider {
  genTokenPrefix(): string;
  enable(): void;
  disable(): void;
  /** Applied Authenticate at `index` (auth revision `revision`): the token (throws AuthError where the provider gives none). */
  assign(user: string, prefix: string, index: number, nowMs: number, revision: number): AssignedToken;
  /** The raft index a token waits for before this member can know it (simple tokens), or undefined. */
  indexOf(token: string): number | undefined;
  /** Who a token names (undefined: invalid); `revision` is the store's now. Synchronous when it can be. */
  info(token: string, nowMs: number, revision: number): TokenInfo | undefined | Promise<TokenInfo | undefined>;
  invalidateUser(user: string): void;
  sweep(nowMs: number): number;
}

/** etcd's --auth-token="" (tokenNop): no token is ever given or valid. */
export class NopTokenProvider implements TokenProvider {
  genTokenPrefix(): string {
    return '';
  }
  enable(): void {}
  disable(): void {}
  assign(): string {
    throw new AuthError('AuthFailed');
  }
  indexOf(): undefined {
    return undefined;
  }
  info(): undefined {
    return undefined;
  }
  invalidateUser(): void {}
  sweep(): number {
    return 0;
  }
}

export class SimpleTokenProvider implements TokenProvider {
  private tokens = new Map<string, TokenEntry>();
  private enabled = false;
  private readonly ttlMs: number;

  constructor(ttlMs: number, private readonly randomInt: (n: number) => number) {
    this.ttlMs = ttlMs > 0 ? ttlMs : DEFAULT_SIMPLE_TOKEN_TTL_MS;
  }

  genTokenPrefix(): string {
    let s = '';
    for (let i = 0; i < PREFIX_LENGTH; i++) s += LETTERS[this.randomInt(LETTERS.length)];
    return s;
  }

  enable(): void {
    this.enabled = true;
  }

  /** All tokens go. */
  disable(): void {
    this.enabled = false;
    this.tokens = new Map();
  }

  /** Applied Authenticate at `index`: the token every member now knows. */
  assign(user: string, prefix: string, index: number, nowMs: number): string {
    const token = `${prefix}.${index}`;
    if (this.enabled) {
      if (this.tokens.has(token)) throw new Error(`auth: simple token ${token} is already in use`);
      this.tokens.set(token, { user, expiresAtMs: nowMs + this.ttlMs });
    }
    return token;
  }

  /** The user of a live token (its life starts again), or undefined. */
  user(token: string, nowMs: number): string | undefined {
    const e = this.tokens.get(token);
    if (!e) return undefined;
    if (nowMs > e.expiresAtMs) {
      this.tokens.delete(token);
      return undefined;
    }
    e.expiresAtMs = nowMs + this.ttlMs;
    return e.user;
  }

  indexOf(token: string): number | undefined {
    return simpleTokenIndex(token);
  }

  info(token: string, nowMs: number, revision: number): TokenInfo | undefined {
    const username = this.user(token, nowMs);
    return username === undefined ? undefined : { username, revision };
  }

  invalidateUser(user: string): void {
    for (const [t, e] of this.tokens) if (e.user === user) this.tokens.delete(t);
  }

  /** Drops expired tokens; the count dropped. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const [t, e] of this.tokens) {
      if (nowMs > e.expiresAtMs) {
        this.tokens.delete(t);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.tokens.size;
  }
}
