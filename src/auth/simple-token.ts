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

/** What the server asks of a token provider (etcd's TokenProvider). */
export interface TokenProvider {
  genTokenPrefix(): string;
  enable(): void;
  disable(): void;
  /** Applied Authenticate at `index`: the token (throws AuthError where the provider gives none). */
  assign(user: string, prefix: string, index: number, nowMs: number): string;
  user(token: string, nowMs: number): string | undefined;
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
  user(): undefined {
    return undefined;
  }
  invalidateUser(): void {}
  sweep(): number {
    return 0;
  }
}

/**
 * etcd's --auth-token parsing (decomposeOpts, NewTokenProvider): "simple", "" (none) or
 * "jwt,key=value,..."; a malformed option list or an unknown type is "auth: invalid auth options".
 * JWT is not built yet: it is refused by name rather than silently replaced.
 */
export function newTokenProvider(opts: string, ttlMs: number, randomInt: (n: number) => number): TokenProvider {
  const [type, ...rest] = opts.split(',');
  const seen = new Set<string>();
  for (const o of rest) {
    const pair = o.split('=');
    if (pair.length !== 2 || seen.has(pair[0]!)) throw new Error('auth: invalid auth options');
    seen.add(pair[0]!);
  }
  if (type === 'simple') return new SimpleTokenProvider(ttlMs, randomInt);
  if (type === '') return new NopTokenProvider();
  if (type === 'jwt') throw new Error('auth: --auth-token=jwt is not supported by this server yet (use simple)');
  throw new Error('auth: invalid auth options');
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
